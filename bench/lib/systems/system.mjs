/**
 * The one shape every system of `npm run bench:compare` has, so each scenario runs the same
 * code on cleancut, @tus/server + tus-js-client, @aws-sdk/lib-storage and the raw ceilings.
 *
 * @typedef {object} Environment       What `bench/compare.mjs` prepared and shares.
 * @property {string} work              A scratch folder (deleted at the end).
 * @property {{endpoint: string, region: string, accessKeyId: string, secretAccessKey: string}} s3
 *                                      The running Swift s3api.
 * @property {string} bucket            A fresh, empty bucket on it, for this run.
 * @property {string} databaseUrl       A fresh PostgreSQL database, for this run.
 *
 * @typedef {object} UploadResult
 * @property {number} ms                 From start to the system saying the upload is done.
 * @property {number} [cpuS]             The machine's busy CPU-seconds over the same window (machine-cpu.mjs).
 * @property {number} [clientPeakRssMiB] VmHWM of the client process (uploads run in a child).
 * @property {number} [serverPeakRssMiB] VmHWM of the server process during this upload (reset before).
 *
 * @typedef {object} CancelResult
 * @property {"creation"|"transfer"|"after-success"} phase  Where the cancel landed.
 * @property {number} ms                 From the cancel call to its promise settling (for cleancut:
 *                                       the verified report; for the others: their abort's promise).
 * @property {boolean} [verified]        Only systems that verify say so.
 * @property {string} [error]            The cancel call rejected (message).
 * @property {number} [inFlight]         Requests carrying bytes at the cancel, when the client can tell.
 *
 * @typedef {object} Leftovers          Listed from the storage itself, never from the system's own records.
 * @property {number} items             Files, objects and unfinished multipart uploads.
 * @property {number} bytes
 * @property {string[]} names           Up to 20, for the report.
 *
 * @typedef {object} System
 * @property {string} name
 * @property {boolean} canCancel        The raw ceilings cannot.
 * @property {() => Promise<void>} start
 * @property {(path: string, size: number) => Promise<UploadResult>} uploadInChild
 *           One upload of the file, client in its own process (throughput, RSS).
 * @property {(path: string, size: number) => Promise<UploadResult>} uploadInProcess
 *           One upload from this process (the 50-concurrent scenario runs 50 of these at once).
 * @property {(path: string, size: number, at: "creation"|number) => Promise<CancelResult>} [cancelAt]
 *           Starts an upload and cancels it with the system's own API during the creation request,
 *           or once `at` (0..1) of the bytes were sent.
 * @property {() => Promise<Leftovers>} [leftovers]  Everything this system's storage holds now.
 * @property {() => Promise<void>} [clear]           Removes what finished uploads left (videos), between scenarios.
 * @property {() => Promise<void>} stop
 */
export {};
