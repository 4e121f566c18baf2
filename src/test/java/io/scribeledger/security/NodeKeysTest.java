package io.scribeledger.security;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The node key is made once, readable by its owner only, and reused after. */
class NodeKeysTest {

  @Test
  void createdOwnerOnlyAndReused(@TempDir Path dir) throws Exception {
    byte[] first = NodeKeys.loadOrCreate(dir).publicKey();
    assertEquals(
        "rwx------",
        PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("keys"))));
    assertEquals(
        "rw-------",
        PosixFilePermissions.toString(
            Files.getPosixFilePermissions(dir.resolve("keys/node-ed25519.pk8"))));
    assertArrayEquals(
        first, NodeKeys.loadOrCreate(dir).publicKey(), "the same key after a restart");
  }
}
