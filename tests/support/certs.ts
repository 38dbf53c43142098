// Throwaway certificates for TLS tests, made with the `openssl` command in a temporary directory
// that is removed before `makeCerts` returns (needs --allow-run, --allow-write and --allow-read).
// ECDSA P-256 keys, valid for two days:
//   ca             a trusted test CA (give its certificate as `transportOptions.tls.ca`)
//   server         signed by ca, for DNS:localhost, IP:127.0.0.1 and IP:::1
//   otherName      signed by ca, for DNS:other.example only
//   untrusted      signed by a second CA nobody trusts, for DNS:localhost and IP:127.0.0.1
//   client         signed by ca, for client authentication (mutual TLS)

/** A PEM certificate (chain) and its PEM private key (PKCS#8). */
export interface KeyPair {
  readonly cert: string;
  readonly key: string;
}

/** The certificates of one test run. */
export interface TestCerts {
  /** The temporary directory they were made in (already removed). */
  readonly dir: string;
  /** The trusted CA's certificate. */
  readonly ca: string;
  /** The untrusted CA's certificate (for a server that should see who signed). */
  readonly untrustedCa: string;
  readonly server: KeyPair;
  readonly otherName: KeyPair;
  readonly untrusted: KeyPair;
  readonly client: KeyPair;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!out.success) {
    throw new Error(
      `openssl ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr).trim()}`,
    );
  }
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
const VALIDITY = ["-days", "2"];

/** `openssl req` arguments for a new key `<name>.key` and the subject `/CN=<cn>`. */
const newKeyFor = (name: string, cn: string) => [
  "req",
  ...EC,
  "-keyout",
  `${name}.key`,
  "-subj",
  `/CN=${cn}`,
];

async function makeCa(dir: string, name: string, cn: string): Promise<void> {
  await openssl(dir, [
    ...newKeyFor(name, cn),
    "-x509",
    "-out",
    `${name}.crt`,
    ...VALIDITY,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
}

async function makeLeaf(
  dir: string,
  name: string,
  ca: string,
  cn: string,
  extensions: string,
): Promise<KeyPair> {
  await openssl(dir, [...newKeyFor(name, cn), "-out", `${name}.csr`]);
  await Deno.writeTextFile(`${dir}/${name}.ext`, extensions);
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.crt`,
    "-CAkey",
    `${ca}.key`,
    "-CAcreateserial",
    "-out",
    `${name}.crt`,
    ...VALIDITY,
    "-extfile",
    `${name}.ext`,
  ]);
  return {
    cert: await Deno.readTextFile(`${dir}/${name}.crt`),
    key: await Deno.readTextFile(`${dir}/${name}.key`),
  };
}

/** The extensions of a leaf certificate for `usage` (serverAuth or clientAuth). */
const LEAF_EXT = (usage: string) =>
  "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n" +
  `extendedKeyUsage=${usage}\n`;
const SERVER_EXT = (san: string) => `subjectAltName=${san}\n` + LEAF_EXT("serverAuth");

/** Makes a fresh set of test certificates with `openssl`. */
export async function makeCerts(): Promise<TestCerts> {
  const dir = await Deno.makeTempDir({ prefix: "parley-certs-" });
  try {
    await makeCa(dir, "ca", "Parley Test CA");
    await makeCa(dir, "evil", "Untrusted Test CA");
    const server = await makeLeaf(
      dir,
      "server",
      "ca",
      "localhost",
      SERVER_EXT("DNS:localhost,IP:127.0.0.1,IP:::1"),
    );
    const otherName = await makeLeaf(
      dir,
      "other",
      "ca",
      "other.example",
      SERVER_EXT("DNS:other.example"),
    );
    const untrusted = await makeLeaf(
      dir,
      "untrusted",
      "evil",
      "localhost",
      SERVER_EXT("DNS:localhost,IP:127.0.0.1"),
    );
    const client = await makeLeaf(
      dir,
      "client",
      "ca",
      "parley-client",
      LEAF_EXT("clientAuth"),
    );
    return {
      dir,
      ca: await Deno.readTextFile(`${dir}/ca.crt`),
      untrustedCa: await Deno.readTextFile(`${dir}/evil.crt`),
      server,
      otherName,
      untrusted,
      client,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
