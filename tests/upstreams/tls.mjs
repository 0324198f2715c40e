// A throw-away certificate authority and server certificate for the fake upstreams' HTTPS mode.
// composer's GitHub driver only speaks https (it builds `https://<host>/api/v3` itself) and its
// Bitbucket driver only talks to https://api.bitbucket.org and https://bitbucket.org, so those
// emulators can serve TLS with a certificate for 127.0.0.1 and the provider host names, signed by this
// CA; composer trusts it through its `cafile` config option. Generated once per process with the
// openssl CLI (bounded by a timeout) in a temp dir that is removed at exit.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export const DEFAULT_TLS_HOSTS = [
  "localhost", "github.com", "api.github.com", "codeload.github.com",
  "gitlab.com", "bitbucket.org", "api.bitbucket.org", "repo.packagist.org", "packagist.org",
];

let cached = null;

// { key, cert, ca (PEM strings), caFile (path of the CA certificate, for composer's `cafile`), dir }
export function testTls() {
  if (cached) return cached;
  const dir = mkdtempSync(path.join(tmpdir(), "pb-upstreams-tls-"));
  process.once("exit", () => { try { rmSync(dir, { recursive: true, force: true }); } catch {} });
  const run = (args) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
  const f = (n) => path.join(dir, n);
  run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj", "/CN=package-broker test upstream CA",
    "-keyout", f("ca.key"), "-out", f("ca.pem"),
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
  run(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", f("server.key"), "-out", f("server.csr")]);
  const san = ["IP:127.0.0.1", ...DEFAULT_TLS_HOSTS.map((h) => `DNS:${h}`)].join(",");
  writeFileSync(f("ext.cnf"), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
  run(["x509", "-req", "-in", f("server.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial",
    "-days", "3650", "-sha256", "-extfile", f("ext.cnf"), "-out", f("server.pem")]);
  cached = {
    dir,
    key: readFileSync(f("server.key"), "utf8"),
    cert: readFileSync(f("server.pem"), "utf8"),
    ca: readFileSync(f("ca.pem"), "utf8"),
    caFile: f("ca.pem"),
  };
  return cached;
}
