/**
 * OpenSSH public keys: the one parser of `authorized_keys` lines, used by the Worker (what an
 * account may register, its fingerprint, the workspace's host key) and by the provisioner (what it
 * writes for sshd). A line that passes has exactly the shape `TYPE BASE64 [COMMENT]`: no options
 * (`command=`, `from=`…) and no line break, so nothing registered can change what sshd does with
 * the key. No imports: the provisioner runs this file under Node as it is.
 */

/** The key types sessions accept: Ed25519, and RSA of at least this many bits (NIST SP 800-57: 2048-bit RSA is below 128-bit strength). */
export const SSH_KEY_TYPES = ["ssh-ed25519", "ssh-rsa"] as const;
export type SshKeyType = (typeof SSH_KEY_TYPES)[number];
export const MIN_RSA_BITS = 3072;
/** A comment longer than this is cut: it is a label, shown in listings. */
export const SSH_KEY_COMMENT_MAX = 100;
/** An RSA key of 16384 bits is about 2.8 kB in base64; nothing longer is a key we accept. */
const MAX_LINE_LENGTH = 4096;

export type SshPublicKey = {
  type: SshKeyType;
  bits: number;
  /** The key blob as base64, as in the line. */
  blob: string;
  comment: string;
  /** `TYPE BASE64`: the line without its comment, what identifies the key (duplicates compare this). */
  key: string;
};

export type SshKeyProblem = { ok: false; reason: string };

/** Reads a length-prefixed string of the SSH wire format (RFC 4251 §5). */
function reader(bytes: Uint8Array) {
  let at = 0;
  return {
    next(): Uint8Array | null {
      if (at + 4 > bytes.length) return null;
      const length = ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
      at += 4;
      if (at + length > bytes.length) return null;
      const value = bytes.subarray(at, at + length);
      at += length;
      return value;
    },
    done: () => at === bytes.length,
  };
}

const text = (bytes: Uint8Array | null) => (bytes ? new TextDecoder().decode(bytes) : "");

/** The bit length of an SSH mpint (big-endian, a leading zero byte when the top bit is set). */
function mpintBits(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i]!));
}

function base64Bytes(value: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value) || value.length % 4 !== 0) return null;
  try {
    return Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/** An OpenSSH public key line (`ssh-keygen`'s `.pub` file), or why it is not one sessions accept. */
export function parseSshPublicKey(line: string): ({ ok: true } & SshPublicKey) | SshKeyProblem {
  const trimmed = line.trim();
  if (trimmed.length > MAX_LINE_LENGTH) return { ok: false, reason: "This is too long to be an OpenSSH public key line." };
  if (/[\r\n\0]/.test(trimmed)) return { ok: false, reason: "Send one public key line: it must not contain line breaks." };
  const [type = "", blob = "", ...rest] = trimmed.split(/[ \t]+/);
  if (type === "ssh-dss") return { ok: false, reason: "DSA keys are not accepted (OpenSSH itself disables them): use an Ed25519 key (`ssh-keygen -t ed25519`)." };
  if (type.startsWith("ecdsa-") || type.startsWith("sk-")) return { ok: false, reason: `${type} keys are not accepted: use an Ed25519 key (\`ssh-keygen -t ed25519\`) or RSA of at least ${MIN_RSA_BITS} bits.` };
  if (!(SSH_KEY_TYPES as readonly string[]).includes(type)) {
    return { ok: false, reason: "This is not an OpenSSH public key line (`ssh-ed25519 AAAA… comment`, as in ~/.ssh/id_ed25519.pub); only Ed25519 and RSA keys are accepted." };
  }
  const bytes = base64Bytes(blob);
  if (!bytes) return { ok: false, reason: "The key's base64 part is not valid base64." };
  const wire = reader(bytes);
  if (text(wire.next()) !== type) return { ok: false, reason: "The key's data does not match its type." };
  let bits: number;
  if (type === "ssh-ed25519") {
    const point = wire.next();
    if (point?.length !== 32 || !wire.done()) return { ok: false, reason: "The Ed25519 key's data is not valid." };
    bits = 256;
  } else {
    const exponent = wire.next();
    const modulus = wire.next();
    if (!exponent || !modulus || exponent.length === 0 || !wire.done()) return { ok: false, reason: "The RSA key's data is not valid." };
    bits = mpintBits(modulus);
    if (bits < MIN_RSA_BITS) return { ok: false, reason: `This RSA key has ${bits} bits; at least ${MIN_RSA_BITS} are required. Use an Ed25519 key (\`ssh-keygen -t ed25519\`) or a larger RSA key.` };
  }
  const comment = rest.join(" ").slice(0, SSH_KEY_COMMENT_MAX);
  return { ok: true, type: type as SshKeyType, bits, blob, comment, key: `${type} ${blob}` };
}

/** The key's SHA-256 fingerprint exactly as `ssh-keygen -lf` prints it: `SHA256:` and unpadded base64. */
export async function sshFingerprint(blob: string): Promise<string> {
  const bytes = Uint8Array.from(atob(blob), (c) => c.charCodeAt(0));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return `SHA256:${btoa(String.fromCharCode(...digest)).replace(/=+$/, "")}`;
}
