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

const openssl = (dir, args) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });

// A certificate authority in `dir`: { key, cert } (paths).
export function makeCa(dir, name, cn = `${name} test CA`) {
  const key = path.join(dir, `${name}.key`), cert = path.join(dir, `${name}.pem`);
  openssl(dir, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj", `/CN=${cn}`, "-keyout", key, "-out", cert,
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
  return { key, cert };
}

// A server certificate in `dir` signed by `ca` for `san` ("IP:127.0.0.1,DNS:..."): { key, cert } (paths).
export function makeCert(dir, ca, name, san, cn = "127.0.0.1") {
  const f = (ext) => path.join(dir, `${name}.${ext}`);
  openssl(dir, ["req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${cn}`, "-keyout", f("key"), "-out", f("csr")]);
  writeFileSync(f("cnf"), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
  openssl(dir, ["x509", "-req", "-in", f("csr"), "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial",
    "-days", "3650", "-sha256", "-extfile", f("cnf"), "-out", f("pem")]);
  return { key: f("key"), cert: f("pem") };
}

// { key, cert, ca (PEM strings), caFile (path of the CA certificate, for composer's `cafile`), dir }
export function testTls() {
  if (cached) return cached;
  const dir = mkdtempSync(path.join(tmpdir(), "pb-upstreams-tls-"));
  process.once("exit", () => { try { rmSync(dir, { recursive: true, force: true }); } catch {} });
  const ca = makeCa(dir, "ca", "package-broker test upstream CA");
  const server = makeCert(dir, ca, "server", ["IP:127.0.0.1", ...DEFAULT_TLS_HOSTS.map((h) => `DNS:${h}`)].join(","));
  cached = {
    dir,
    key: readFileSync(server.key, "utf8"),
    cert: readFileSync(server.cert, "utf8"),
    ca: readFileSync(ca.cert, "utf8"),
    caFile: ca.cert,
  };
  return cached;
}
