import express from "express";
import { Webhook } from "standardwebhooks";

/**
 * `POST` route for cleancut's webhooks. The signature is checked over the exact bytes received
 * (hence `express.raw`, not `express.json`) with the shared `whsec_…` secret, and the
 * timestamp must be recent (the library allows 5 minutes). A bad signature is a 400 and
 * changes nothing; a good one is applied and answered 204, so cleancut stops retrying.
 */
export function webhookRoute(secret, videos) {
  const verifier = new Webhook(secret);
  return [
    express.raw({ type: "application/json", limit: "256kb" }),
    (request, response) => {
      let event;
      try {
        event = verifier.verify(request.body, request.headers);
      } catch (error) {
        response.status(400).json({ error: `webhook refused: ${error.message}` });
        return;
      }
      videos.apply(event);
      response.status(204).end();
    },
  ];
}
