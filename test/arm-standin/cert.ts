import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface TestCertificate {
  /** PEM private key. */
  key: string;
  /** PEM self-signed certificate for 127.0.0.1 and localhost; also the client's trust anchor. */
  cert: string;
}

/**
 * A throwaway certificate from the openssl CLI. The SDK sends bearer tokens only over https,
 * so the stand-in needs one; the temp directory is gone before this returns, so nothing
 * outlives the process even if a test never closes its server.
 */
export async function generateTestCertificate(): Promise<TestCertificate> {
  const dir = await mkdtemp(join(tmpdir(), "kaito-arm-standin-"));
  try {
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    try {
      await run("openssl", [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=kaito-arm-standin",
        "-addext",
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-keyout",
        key,
        "-out",
        cert,
      ]);
    } catch (e) {
      const reason =
        (e as NodeJS.ErrnoException).code === "ENOENT" ? "openssl is not on PATH" : (e as Error).message;
      throw new Error(`cannot generate the ARM stand-in's TLS certificate: ${reason}`, { cause: e });
    }
    return { key: await readFile(key, "utf8"), cert: await readFile(cert, "utf8") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
