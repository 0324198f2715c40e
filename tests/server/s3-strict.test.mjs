// The S3 store the server's tests use must refuse what S3 refuses: s3rver alone accepts any V4
// signature and anonymous requests, so tests/server/s3-strict.mjs verifies first. Checked here against
// AWS's published Signature V4 examples (examplebucket, 2013-05-24) and on a running store.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startStrictS3, verify } from "./s3-strict.mjs";

const AWS = { accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1" };
const T = Date.UTC(2013, 4, 24);
const EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// "Example: GET Object" of the S3 SigV4 documentation.
function getObject(overrides = {}) {
  return {
    method: "GET",
    url: "/test.txt",
    headers: {
      host: "examplebucket.s3.amazonaws.com",
      range: "bytes=0-9",
      "x-amz-content-sha256": EMPTY,
      "x-amz-date": "20130524T000000Z",
      authorization:
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, " +
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
      ...overrides,
    },
  };
}

test("verifies AWS's signed header example and refuses every alteration", () => {
  assert.equal(verify(getObject(), Buffer.alloc(0), T, AWS), null);
  assert.equal(verify(getObject({ range: "bytes=0-10" }), Buffer.alloc(0), T, AWS)[1], "SignatureDoesNotMatch");
  assert.equal(verify(getObject(), Buffer.from("x"), T, AWS)[1], "XAmzContentSHA256Mismatch");
  assert.equal(verify(getObject(), Buffer.alloc(0), T + 16 * 60 * 1000, AWS)[1], "RequestTimeTooSkewed");
  assert.equal(verify(getObject(), Buffer.alloc(0), T, { ...AWS, accessKey: "OTHER" })[1], "InvalidAccessKeyId");
  assert.equal(verify(getObject({ "x-amz-meta-extra": "1" }), Buffer.alloc(0), T, AWS)[1], "AccessDenied");
  const anonymous = getObject();
  delete anonymous.headers.authorization;
  assert.equal(verify(anonymous, Buffer.alloc(0), T, AWS)[1], "AccessDenied");
});

test("verifies AWS's pre-signed URL example, and its expiry", () => {
  const url =
    "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
    "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
    "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
  const req = { method: "GET", url, headers: { host: "examplebucket.s3.amazonaws.com" } };
  assert.equal(verify(req, Buffer.alloc(0), T + 1000, AWS), null);
  assert.equal(verify(req, Buffer.alloc(0), T + 86401 * 1000, AWS)[2], "Request has expired");
  assert.equal(verify({ ...req, url: url.replace("Expires=86400", "Expires=86401") }, Buffer.alloc(0), T, AWS)[1], "SignatureDoesNotMatch");
});

test("the running store refuses anonymous and badly signed requests", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "pb-s3-strict-"));
  const s3 = await startStrictS3({ dir, bucket: "pb-check" });
  try {
    const anon = await fetch(`http://127.0.0.1:${s3.port}/pb-check/x`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(anon.status, 403);
    assert.match(await anon.text(), /<Code>AccessDenied<\/Code>/);
    const forged = await fetch(`http://127.0.0.1:${s3.port}/pb-check/x`, {
      headers: {
        authorization: `AWS4-HMAC-SHA256 Credential=S3RVER/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${"0".repeat(64)}`,
        "x-amz-date": new Date().toISOString().replace(/[-:]|\.\d+/g, ""),
        "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
      },
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(forged.status, 403);
    assert.equal(s3.stats.verified, 0);
  } finally {
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
