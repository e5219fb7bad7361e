import { IndexedDbJournal, IndexedDbUploadSessions, type ResumedCancel } from "@cleancut/client";
import "./styles.css";
import { AppIssuedCard, appIssuedFromHash } from "./app-issued";
import { byId } from "./dom";
import { endpoint } from "./endpoint";
import { LeftoverCard } from "./leftover";
import { PendingCancels } from "./pending-cancels";
import { UploadView } from "./upload-view";
import { UploadsList } from "./uploads-list";

const journal = new IndexedDbJournal();
const sessions = new IndexedDbUploadSessions();
const list = new UploadsList(byId<HTMLTableElement>("uploads"), byId("uploads-empty"));
const picker = byId<HTMLElement>("picker");
const page = document.documentElement;
// An upload the application created for this person (`#upload=<id>&token=<token>`): the page
// sends that one upload's file and nothing else (no picker, no offers from earlier visits).
const appIssued = appIssuedFromHash(location.hash);
if (appIssued !== undefined) page.dataset.mode = "app-issued";

const pending = new PendingCancels(journal, (result: ResumedCancel) => {
  if (result.ok) {
    list.upsert({ id: result.id, state: "cancelled · storage verified empty" });
    view.showLateReport(result.id, result.report);
    leftover.status(`Cleaned up: ${result.report.deletedSegments} segments deleted, storage verified empty.`);
  } else {
    leftover.status("A cancel from this browser is not confirmed yet: the server is unreachable. Retrying…");
  }
});
const finishPendingCancels = () => {
  page.dataset.pendingCancels = "running";
  void pending.finish().then(() => {
    page.dataset.pendingCancels = "done";
  });
};

const view = new UploadView(journal, sessions, list, finishPendingCancels, () => {
  picker.hidden = appIssued !== undefined;
});

const leftover = new LeftoverCard(
  journal,
  sessions,
  (session, file) => {
    picker.hidden = true;
    view.start(file, {
      concurrency: Number(byId<HTMLSelectElement>("concurrency").value),
      segmentSize: session.segmentSize,
      upload: { id: session.id, token: session.token },
    });
  },
  finishPendingCancels,
);

function startUpload(file: File | undefined): void {
  if (file === undefined || view.busy) return;
  const segmentSize = byId<HTMLSelectElement>("segment-size").value;
  leftover.hide();
  picker.hidden = true;
  view.start(file, {
    concurrency: Number(byId<HTMLSelectElement>("concurrency").value),
    ...(segmentSize === "" ? {} : { segmentSize: Number(segmentSize) }),
  });
}

const input = byId<HTMLInputElement>("file");
input.addEventListener("change", () => {
  startUpload(input.files?.[0]);
  input.value = "";
});
const dropzone = byId<HTMLElement>("dropzone");
dropzone.addEventListener("dragover", (event) => {
  event.preventDefault();
  dropzone.classList.add("over");
});
dropzone.addEventListener("dragleave", () => dropzone.classList.remove("over"));
dropzone.addEventListener("drop", (event) => {
  event.preventDefault();
  dropzone.classList.remove("over");
  startUpload(event.dataTransfer?.files[0]);
});

// A new app-issued upload handed to this page (an iframe's src with another fragment) changes only
// the fragment, which loads nothing: start over with it.
addEventListener("hashchange", () => location.reload());

// A cancel in progress must not be lost to a closed tab: ask before leaving (the journal
// still finishes it on the next visit if the person leaves anyway).
addEventListener("beforeunload", (event) => {
  if (view.busy) event.preventDefault();
});

// On every visit: finish cancels the journal still holds, then offer unfinished uploads.
async function startUp(): Promise<void> {
  if ((await journal.list()).length > 0) {
    leftover.status("Finishing a cancel from your last visit…");
    finishPendingCancels();
  }
  if (appIssued === undefined) {
    await leftover.check();
  } else {
    picker.hidden = true;
    const card = new AppIssuedCard(appIssued, endpoint, (file) =>
      view.start(file, {
        concurrency: Number(byId<HTMLSelectElement>("concurrency").value),
        upload: appIssued,
      }),
    );
    await card.show();
  }
  page.dataset.ready = "true";
}
void startUp();
