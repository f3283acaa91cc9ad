// X.509 through WebCrypto: the same code runs on a node, in the setup container and in tests,
// without depending on an openssl binary being installed.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import { isIP } from "node:net";
import * as x509 from "@peculiar/x509";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type Provider = Parameters<typeof x509.cryptoProvider.set>[0];

x509.cryptoProvider.set(webcrypto as unknown as Provider);

/** ECDSA P-256: small keys, fast handshakes on a Raspberry Pi, accepted by OpenSSL, Node and Java. */
const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY_MS = 86_400_000;

export interface Pem {
  certificate: string;
  privateKey: string;
}

export interface Authority extends Pem {
  readonly cert: x509.X509Certificate;
  readonly keys: CryptoKeyPair;
}

export type Usage = "server" | "client";

export interface Subject {
  commonName: string;
  /** DNS names and IP addresses the certificate is valid for (servers). */
  altNames?: string[];
  usage: Usage;
  days: number;
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"])) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey("pkcs8", key);
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

function serialNumber(): string {
  // Positive 128-bit serials, as RFC 5280 asks; random so that reissuing never repeats one.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f;
  return Buffer.from(bytes).toString("hex");
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  // A minute of slack so that a node whose clock runs slightly behind accepts a fresh certificate.
  const notBefore = new Date(Date.now() - 60_000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * DAY_MS) };
}

function escapeDn(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, "\\$1");
}

export async function createAuthority(name: string, days: number): Promise<Authority> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${escapeDn(name)}`,
    ...validity(days),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys, certificate: cert.toString("pem"), privateKey: await privateKeyPem(keys.privateKey) };
}

/** Loads an authority written earlier, so that new node certificates chain to the CA nodes already trust. */
export async function loadAuthority(certificatePem: string, privateKeyPem: string): Promise<Authority> {
  const cert = new x509.X509Certificate(certificatePem);
  const privateKey = await webcrypto.subtle.importKey(
    "pkcs8",
    x509.PemConverter.decodeFirst(privateKeyPem),
    ALGORITHM,
    true,
    ["sign"],
  );
  const publicKey = await cert.publicKey.export(ALGORITHM, ["verify"], webcrypto as unknown as Provider);
  return { cert, keys: { privateKey, publicKey }, certificate: certificatePem, privateKey: privateKeyPem };
}

export async function issue(authority: Authority, subject: Subject): Promise<Pem> {
  const keys = await generateKeys();
  const altNames = (subject.altNames ?? []).map((value) =>
    isIP(value) ? { type: "ip" as const, value } : { type: "dns" as const, value },
  );
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
    new x509.ExtendedKeyUsageExtension(
      [subject.usage === "server" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
      false,
    ),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(authority.cert),
  ];
  if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames, false));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${escapeDn(subject.commonName)}`,
    issuer: authority.cert.subject,
    ...validity(subject.days),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: authority.keys.privateKey,
    extensions,
  });
  return { certificate: cert.toString("pem"), privateKey: await privateKeyPem(keys.privateKey) };
}

/** The DNS names and IP addresses a certificate was issued for. */
export function altNamesOf(certificatePem: string): string[] {
  const extension = new x509.X509Certificate(certificatePem).getExtension(
    x509.SubjectAlternativeNameExtension,
  );
  return (extension?.names.toJSON() ?? []).map((n) => n.value);
}
