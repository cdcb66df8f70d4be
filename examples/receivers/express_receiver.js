// depositd webhook receiver for Node.js + Express.
//
// express.json() would parse and discard the raw bytes the signature covers:
// use express.raw() on this route so req.body is the exact Buffer sent.
//
//   npm install express
//   DEPOSITD_WEBHOOK_SECRET=whsec_... PORT=8000 node express_receiver.js
"use strict";
const crypto = require("crypto");
const express = require("express");

const SECRET = process.env.DEPOSITD_WEBHOOK_SECRET || "";
const TOLERANCE_SECONDS = 5 * 60;

function verify(secret, msgId, timestamp, signatureHeader, rawBody) {
  const ts = Number.parseInt(timestamp, 10);
  if (!Number.isFinite(ts) || Math.abs(Date.now() / 1000 - ts) > TOLERANCE_SECONDS) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = crypto
    .createHmac("sha256", key)
    .update(`${msgId}.${timestamp}.`)
    .update(rawBody)
    .digest();
  return signatureHeader.split(" ").some((candidate) => {
    const [version, sig] = candidate.split(",", 2);
    if (version !== "v1" || !sig) return false;
    const got = Buffer.from(sig, "base64");
    return got.length === expected.length && crypto.timingSafeEqual(got, expected);
  });
}

const app = express();
app.post("/webhooks/deposits", express.raw({ type: "application/json", limit: "1mb" }), (req, res) => {
  const ok = Buffer.isBuffer(req.body) && verify(
    SECRET,
    req.get("webhook-id") || "",
    req.get("webhook-timestamp") || "",
    req.get("webhook-signature") || "",
    req.body,
  );
  if (!ok) return res.status(400).send("bad signature");
  const event = JSON.parse(req.body.toString("utf8"));
  // Delivery is at least once: make this idempotent on event.id.
  console.log(`received ${event.id} ${event.type}`);
  res.status(204).end();
});

const port = Number.parseInt(process.env.PORT || "8000", 10);
app.listen(port, "127.0.0.1");
