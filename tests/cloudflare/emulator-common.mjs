// What the parts of the Cloudflare API emulator share: the error every handler throws (answered in
// Cloudflare's envelope), a success with its own HTTP status, and the body readers of the v4 API.
import { randomBytes } from "node:crypto";

// A failure answered as {"success":false,"errors":[{code,message}],...} with this HTTP status.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// A success whose HTTP status is not 200 (the assets upload answers 201 and 202).
export class Reply {
  constructor(status, result) {
    this.status = status;
    this.result = result;
  }
}

export const hex = (bytes) => randomBytes(bytes).toString("hex");

export async function readJson(body) {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new ApiError(400, 10001, "Invalid JSON in the request body");
  }
}

// Reads a multipart/form-data body the way the Workers upload API does.
export async function readForm(req, body) {
  const type = req.headers["content-type"] ?? "";
  if (!type.startsWith("multipart/form-data")) throw new ApiError(400, 10001, "Expected a multipart/form-data upload");
  const request = new Request("http://emulator/upload", { method: "POST", headers: { "content-type": type }, body });
  try {
    return await request.formData();
  } catch (e) {
    throw new ApiError(400, 10001, `Could not parse the multipart body: ${e.message}`);
  }
}
