package io.scribeledger.security;

import io.scribeledger.storage.Directories;
import io.scribeledger.verify.TreeHead;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;

/**
 * This node's Ed25519 key pair: made on first start in {@code dataDir/keys} (directory 0700,
 * private key 0600) and reused after. Signs tree heads.
 */
public final class NodeKeys {

  private static final String PRIVATE = "node-ed25519.pk8";
  private static final String PUBLIC = "node-ed25519.pub";

  private final PrivateKey privateKey;
  private final byte[] publicKey;

  private NodeKeys(PrivateKey privateKey, byte[] publicKey) {
    this.privateKey = privateKey;
    this.publicKey = publicKey;
  }

  /** Loads the key pair from {@code dataDir}, creating it on first use. Blocking. */
  public static NodeKeys loadOrCreate(Path dataDir) {
    Path dir = dataDir.resolve("keys");
    try {
      if (!Files.exists(dir.resolve(PRIVATE))) {
        create(dir);
      }
      byte[] pk8 = Files.readAllBytes(dir.resolve(PRIVATE));
      byte[] pub = Files.readAllBytes(dir.resolve(PUBLIC));
      PrivateKey key =
          KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(pk8));
      return new NodeKeys(key, pub);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the node key in " + dir, e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the node key in " + dir + " is not an Ed25519 key", e);
    }
  }

  private static void create(Path dir) throws IOException, GeneralSecurityException {
    Files.createDirectories(dir);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    Path tmp = dir.resolve(PRIVATE + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(
        tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.write(
        tmp,
        pair.getPrivate().getEncoded(),
        StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.SYNC);
    Files.write(
        dir.resolve(PUBLIC),
        pair.getPublic().getEncoded(),
        StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.WRITE,
        StandardOpenOption.SYNC);
    try {
      // The private key appears last and atomically: its presence means the pair is complete.
      Files.move(tmp, dir.resolve(PRIVATE), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (FileAlreadyExistsException e) {
      Files.delete(tmp);
    }
    Directories.sync(dir);
  }

  /** X.509 SubjectPublicKeyInfo DER. */
  public byte[] publicKey() {
    return publicKey.clone();
  }

  public TreeHead sign(String nodeId, long treeSize, byte[] rootHash, long timestamp) {
    try {
      Signature signer = Signature.getInstance("Ed25519");
      signer.initSign(privateKey);
      signer.update(TreeHead.signedBytes(treeSize, timestamp, rootHash));
      return new TreeHead(treeSize, rootHash, timestamp, nodeId, signer.sign(), publicKey.clone());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign with the node key", e);
    }
  }
}
