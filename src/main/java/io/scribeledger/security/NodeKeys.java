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

  /**
   * Loads the private key from {@code file} (a Kubernetes Secret, say): an Ed25519 key as PKCS#8,
   * DER or PEM ({@code openssl genpkey -algorithm ed25519}). The public key is derived from it.
   * Blocking.
   */
  public static NodeKeys load(Path file) {
    try {
      byte[] raw = Files.readAllBytes(file);
      String text = new String(raw, java.nio.charset.StandardCharsets.US_ASCII);
      byte[] pk8 =
          text.contains("-----BEGIN PRIVATE KEY-----")
              ? java.util.Base64.getMimeDecoder()
                  .decode(
                      text.substring(
                          text.indexOf("-----BEGIN PRIVATE KEY-----") + 27,
                          text.indexOf("-----END PRIVATE KEY-----")))
              : raw;
      PrivateKey key =
          KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(pk8));
      return new NodeKeys(key, publicOf(key));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the signing key " + file, e);
    } catch (GeneralSecurityException | IllegalArgumentException | IndexOutOfBoundsException e) {
      throw new IllegalStateException(
          "the signing key " + file + " is not an Ed25519 private key (PKCS#8, DER or PEM)", e);
    }
  }

  /**
   * The X.509 public key of an Ed25519 private key. The JDK has no API to derive one from the
   * other, but an Ed25519 pair is a function of its 32-byte seed (RFC 8032), so a generator whose
   * random source hands out exactly that seed makes the same pair.
   */
  private static byte[] publicOf(PrivateKey key) throws GeneralSecurityException {
    byte[] seed =
        ((java.security.interfaces.EdECPrivateKey) key)
            .getBytes()
            .orElseThrow(() -> new GeneralSecurityException("the key has no seed"));
    KeyPairGenerator g = KeyPairGenerator.getInstance("Ed25519");
    g.initialize(
        new java.security.spec.NamedParameterSpec("Ed25519"),
        new java.security.SecureRandom() {
          private static final long serialVersionUID = 1L;

          @Override
          public void nextBytes(byte[] bytes) {
            System.arraycopy(seed, 0, bytes, 0, bytes.length);
          }
        });
    return g.generateKeyPair().getPublic().getEncoded();
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

  /** Signs a version-2 head that names {@code clusterId} and {@code nodeId}. */
  public TreeHead sign(
      String clusterId, String nodeId, long treeSize, byte[] rootHash, long timestamp) {
    try {
      Signature signer = Signature.getInstance("Ed25519");
      signer.initSign(privateKey);
      signer.update(
          TreeHead.signedBytes(
              TreeHead.CURRENT_VERSION, clusterId, nodeId, treeSize, timestamp, rootHash));
      return new TreeHead(
          TreeHead.CURRENT_VERSION,
          clusterId,
          treeSize,
          rootHash,
          timestamp,
          nodeId,
          signer.sign(),
          publicKey.clone());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign with the node key", e);
    }
  }
}
