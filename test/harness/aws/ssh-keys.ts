import ssh2 from "ssh2";

/**
 * An Ed25519 key pair in OpenSSH format that ssh2 itself can read back: its generator writes a key whose
 * first byte is zero one time in about 200 with that byte dropped, which its own parser then refuses.
 */
export function generateSSHKeyPair(): { privateKey: string; publicKey: string } {
  for (let attempt = 0; attempt < 20; attempt++) {
    const pair = ssh2.utils.generateKeyPairSync("ed25519");
    if (!(ssh2.utils.parseKey(pair.private) instanceof Error) && !(ssh2.utils.parseKey(pair.public) instanceof Error)) {
      return { privateKey: pair.private, publicKey: pair.public };
    }
  }
  throw new Error("ssh2 made no readable Ed25519 key in 20 tries");
}
