import { generateKeyPairSync, randomBytes, X509Certificate } from "node:crypto";
import forge from "node-forge";

/** A CA and the serving certificate it signed, in PEM. */
export interface ServingCertificates {
  /** The CA certificate: the caBundle of webhook configurations (and, later, CRD conversion). */
  caCert: string;
  /** The serving certificate, followed by nothing else (the API server trusts the CA). */
  cert: string;
  key: string;
}

export interface CertificateRequest {
  /** DNS names the server answers to, e.g. kaito-webhook.kaito-system.svc. */
  dnsNames: readonly string[];
  /** IP addresses it answers to, e.g. 127.0.0.1 for `kaito up`. */
  ipAddresses?: readonly string[];
  /** Now, from the injected clock. */
  now: number;
  /** Validity of the serving certificate; the CA lives ten times as long. Default 365 days. */
  validDays?: number;
}

const DAY_MS = 86_400_000;

/**
 * Generates a CA and a serving certificate. Node's crypto makes the RSA keys (fast, native);
 * node-forge writes the X.509 certificates, which Node cannot issue. Certificates are backdated
 * an hour so a slightly slow API-server clock does not reject them as not yet valid.
 */
export function generateServingCertificates(r: CertificateRequest): ServingCertificates {
  if (r.dnsNames.length === 0 && !r.ipAddresses?.length)
    throw new Error("a serving certificate needs at least one DNS name or IP address");
  const validDays = r.validDays ?? 365;
  const notBefore = new Date(r.now - 3_600_000);
  const caKeys = rsaKeys();
  const ca = forge.pki.createCertificate();
  ca.publicKey = caKeys.publicKey;
  ca.serialNumber = serial();
  ca.validity.notBefore = notBefore;
  ca.validity.notAfter = new Date(r.now + validDays * 10 * DAY_MS);
  const caName = [{ name: "commonName", value: "kaito-ts webhook CA" }];
  ca.setSubject(caName);
  ca.setIssuer(caName);
  ca.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());

  const keys = rsaKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = new Date(r.now + validDays * DAY_MS);
  cert.setSubject([{ name: "commonName", value: r.dnsNames[0] ?? r.ipAddresses![0]! }]);
  cert.setIssuer(caName);
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    {
      name: "subjectAltName",
      altNames: [
        ...r.dnsNames.map((value) => ({ type: 2, value })),
        ...(r.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
      ],
    },
  ]);
  cert.sign(caKeys.privateKey, forge.md.sha256.create());
  return {
    caCert: forge.pki.certificateToPem(ca),
    cert: forge.pki.certificateToPem(cert),
    key: forge.pki.privateKeyToPem(keys.privateKey),
  };
}

function rsaKeys(): forge.pki.rsa.KeyPair {
  const { privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const priv = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  return { privateKey: priv, publicKey: forge.pki.setRsaPublicKey(priv.n, priv.e) };
}

/** A positive 128-bit serial number in hex (RFC 5280 asks for at most 20 octets, positive). */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0]! &= 0x7f;
  return bytes.toString("hex");
}

/**
 * Whether `certs` still serve `request`: the serving certificate covers every name and address
 * and stays valid for more than `renewBeforeMs` (default 30 days).
 */
export function certificatesFit(
  certs: ServingCertificates,
  request: Omit<CertificateRequest, "validDays">,
  renewBeforeMs = 30 * DAY_MS,
): boolean {
  let x: X509Certificate;
  try {
    x = new X509Certificate(certs.cert);
    new X509Certificate(certs.caCert);
  } catch {
    return false;
  }
  if (Date.parse(x.validTo) - request.now <= renewBeforeMs) return false;
  const sans = (x.subjectAltName ?? "").split(", ");
  return (
    request.dnsNames.every((d) => sans.includes(`DNS:${d}`)) &&
    (request.ipAddresses ?? []).every((ip) => sans.includes(`IP Address:${ip}`))
  );
}
