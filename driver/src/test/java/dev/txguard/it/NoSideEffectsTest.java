package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txguard.TxGuardDriver;
import java.io.FileOutputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * txguard opens no socket, writes no file and starts no process of its own: the database driver it
 * wraps does the talking. The only file it touches is the configuration file it is told to read.
 * Checked on the compiled classes, so that every path counts, not only those a test runs.
 */
class NoSideEffectsTest {

    @Test
    void theDriversClassesReferNothingThatOpensASocketOrWritesAFile() throws Exception {
        Path classes = ClassReferences.classesOf(TxGuardDriver.class);
        List<String> found = ClassReferences.sideEffectsUnder(classes);
        assertEquals(List.of(), found, "txguard code that could open a socket, write a file or start a process");
    }

    /** The check itself can fail: code that does these things is caught. */
    @Test
    void theCheckCatchesCodeThatDoes() throws Exception {
        Path tests = ClassReferences.classesOf(NoSideEffectsTest.class);
        List<String> found = ClassReferences.sideEffectsUnder(tests);
        String canary = "dev/txguard/it/NoSideEffectsTest$Canary -> ";
        assertTrue(found.contains(canary + "java/net/Socket"), found.toString());
        assertTrue(found.contains(canary + "java/io/FileOutputStream"), found.toString());
        assertTrue(found.contains(canary + "java/nio/file/Files.writeString(Ljava/nio/file/Path;Ljava/lang/CharSequence;"
                + "[Ljava/nio/file/OpenOption;)Ljava/nio/file/Path;"), found.toString());
    }

    /** Never run: its compiled form is what the check above must catch. */
    @SuppressWarnings("unused")
    private static final class Canary {
        void phoneHome() throws Exception {
            try (Socket s = new Socket("example.org", 80); FileOutputStream f = new FileOutputStream("x")) {
                java.nio.file.Files.writeString(Path.of("y"), "z");
            }
        }
    }
}
