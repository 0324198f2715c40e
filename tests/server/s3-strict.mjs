// An S3-compatible store for tests that checks signatures the way S3 does. s3rver (npm) implements the
// S3 API on a directory but does not verify AWS Signature V4 at all (its V4 branch accepts anything)
// and serves anonymous requests; so a front on 127.0.0.1 verifies every request first — header
// signatures (with the payload's SHA-256) and pre-signed URLs (with their expiry) — answers S3's XML
// errors (AccessDenied, SignatureDoesNotMatch, InvalidAccessKeyId, RequestTimeTooSkewed,
// XAmzContentSHA256Mismatch), and passes only verified requests on to s3rver.
//
//   node tests/server/s3-strict.mjs PORT DIR BUCKET      (prints "ready <port>" when listening)
import http from "node:http";
import { createHash, createHmac } from "node:crypto";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const S3rver = require("s3rver");

export const ACCESS_KEY = "S3RVER";
export const SECRET_KEY = "S3RVER";
export const REGION = "us-east-1";

const sha256 = (b) => createHash("sha256").update(b).digest("hex");
const hmac = (k, s) => createHmac("sha256", k).update(s).digest();
const rfc3986 = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());

function decode(s) {
  try {
    return decodeURIComponent(s.replace(/\+/g, "%20"));
  } catch {
    return s;
  }
}

function xmlError(res, status, code, message) {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, { "content-type": "application/xml", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function amzTime(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s ?? "");
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : NaN;
}

// Verifies one request; returns null when it is signed right, else [status, code, message].
export function verify(req, body, now = Date.now(), keys = { accessKey: ACCESS_KEY, secretKey: SECRET_KEY, region: REGION }) {
  const url = new URL(req.url, "http://x");
  const rawPath = req.url.split("?")[0];
  const rawQuery = req.url.includes("?") ? req.url.slice(req.url.indexOf("?") + 1) : "";
  const pairs = rawQuery
    .split("&")
    .filter(Boolean)
    .map((p) => {
      const i = p.indexOf("=");
      return i < 0 ? [decode(p), ""] : [decode(p.slice(0, i)), decode(p.slice(i + 1))];
    });
  const auth = req.headers.authorization;
  const presigned = url.searchParams.has("X-Amz-Algorithm");
  if (!auth && !presigned) return [403, "AccessDenied", "Access Denied (anonymous requests are refused)"];
  if (auth && presigned) return [400, "InvalidArgument", "Only one auth mechanism allowed"];

  let credential, signedHeaders, signature, date, payloadHash;
  if (auth) {
    const m = /^AWS4-HMAC-SHA256 Credential=([^,]+),\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$/.exec(auth);
    if (!m) return [400, "AuthorizationHeaderMalformed", "The authorization header is malformed"];
    [, credential, signedHeaders, signature] = m;
    date = req.headers["x-amz-date"];
    payloadHash = req.headers["x-amz-content-sha256"];
    if (!payloadHash) return [400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256"];
    if (payloadHash !== "UNSIGNED-PAYLOAD" && payloadHash !== sha256(body))
      return [400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed."];
    const t = amzTime(date);
    if (Number.isNaN(t) || Math.abs(now - t) > 15 * 60 * 1000)
      return [403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large."];
  } else {
    if (url.searchParams.get("X-Amz-Algorithm") !== "AWS4-HMAC-SHA256")
      return [400, "AuthorizationQueryParametersError", "X-Amz-Algorithm only supports AWS4-HMAC-SHA256"];
    credential = url.searchParams.get("X-Amz-Credential") ?? "";
    signedHeaders = url.searchParams.get("X-Amz-SignedHeaders") ?? "";
    signature = url.searchParams.get("X-Amz-Signature") ?? "";
    date = url.searchParams.get("X-Amz-Date");
    const expires = Number(url.searchParams.get("X-Amz-Expires"));
    const t = amzTime(date);
    if (Number.isNaN(t) || !Number.isInteger(expires) || expires < 1 || expires > 604800)
      return [400, "AuthorizationQueryParametersError", "X-Amz-Date and X-Amz-Expires (1..604800) are required"];
    if (now > t + expires * 1000) return [403, "AccessDenied", "Request has expired"];
    if (t > now + 15 * 60 * 1000) return [403, "AccessDenied", "Request is not valid yet"];
    payloadHash = "UNSIGNED-PAYLOAD";
  }
  const [accessKey, scopeDate, region, service, terminal] = credential.split("/");
  if (accessKey !== keys.accessKey) return [403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."];
  if (scopeDate !== String(date).slice(0, 8) || region !== keys.region || service !== "s3" || terminal !== "aws4_request")
    return [403, "SignatureDoesNotMatch", "The credential scope is wrong"];
  const names = signedHeaders.split(";");
  if (!names.includes("host")) return [403, "SignatureDoesNotMatch", "The host header must be signed"];
  for (const h of Object.keys(req.headers))
    if (h.startsWith("x-amz-") && !names.includes(h)) return [403, "AccessDenied", `There were headers present in the request which were not signed: ${h}`];
  const canonicalHeaders = names.map((n) => `${n}:${String(req.headers[n] ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
  const canonicalQuery = pairs
    .filter(([k]) => k !== "X-Amz-Signature")
    .map(([k, v]) => [rfc3986(k), rfc3986(v)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonicalRequest = [req.method, rawPath, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join("\n");
  const scope = `${scopeDate}/${region}/s3/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", date, scope, sha256(canonicalRequest)].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${keys.secretKey}`, scopeDate), region), "s3"), "aws4_request");
  const expected = createHmac("sha256", key).update(toSign).digest("hex");
  if (expected !== signature) return [403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."];
  return null;
}

// Starts s3rver on a private port and the verifying front on `port`; returns { port, close }.
export async function startStrictS3({ port = 0, dir, bucket }) {
  const backend = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
  const { port: backendPort } = await backend.run();
  const stats = { verified: 0, refused: 0, byMethod: {} };
  const front = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const bad = verify(req, body);
      if (bad) {
        stats.refused++;
        return xmlError(res, ...bad);
      }
      stats.verified++;
      stats.byMethod[req.method] = (stats.byMethod[req.method] ?? 0) + 1;
      const headers = { ...req.headers, "content-length": String(body.length) };
      delete headers["transfer-encoding"];
      const up = http.request({ host: "127.0.0.1", port: backendPort, method: req.method, path: req.url, headers }, (ur) => {
        res.writeHead(ur.statusCode, ur.headers);
        ur.pipe(res);
      });
      up.on("error", (e) => xmlError(res, 500, "InternalError", String(e.message)));
      up.end(body);
    });
  });
  await new Promise((r) => front.listen(port, "127.0.0.1", r));
  return {
    port: front.address().port,
    stats,
    close: async () => {
      front.closeAllConnections?.();
      await new Promise((r) => front.close(r));
      await backend.close();
    },
  };
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  const [port, dir, bucket] = process.argv.slice(2);
  const s3 = await startStrictS3({ port: Number(port), dir, bucket });
  console.log(`ready ${s3.port}`);
  setInterval(() => console.log(JSON.stringify({ s3: s3.stats })), 60_000).unref();
  process.on("SIGTERM", async () => {
    await s3.close();
    process.exit(0);
  });
}
