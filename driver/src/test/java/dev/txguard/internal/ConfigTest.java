package dev.txguard.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sources of the settings and their order: system property over environment over file. */
class ConfigTest {

    @TempDir
    Path dir;

    private static Properties system(String... pairs) {
        Properties p = new Properties();
        for (int i = 0; i < pairs.length; i += 2) p.setProperty(pairs[i], pairs[i + 1]);
        return p;
    }

    @Test
    void systemPropertyBeatsEnvironmentBeatsFile() throws Exception {
        Path file = dir.resolve("txguard.properties");
        Files.writeString(file, "mode=observe\ndurability=warn\nhelpers=com.acme.db.Tx\n");
        Map<String, String> merged = Config.collect(
                system("txguard.config", file.toString(), "txguard.mode", "enforce"),
                Map.of("TXGUARD_DURABILITY", "off"));
        Config config = Config.parse(merged);
        assertEquals(Config.Mode.ENFORCE, config.mode);
        assertEquals(Config.Durability.OFF, config.durability);
        assertEquals("com.acme.db.Tx", config.helpers[0].toString());
    }

    @Test
    void aFileOnTheClassPathIsRead() throws Exception {
        Files.writeString(dir.resolve("txguard.properties"), "txguard.mode=observe\n");
        Thread thread = Thread.currentThread();
        ClassLoader before = thread.getContextClassLoader();
        try (java.net.URLClassLoader app = new java.net.URLClassLoader(new java.net.URL[] {dir.toUri().toURL()}, before)) {
            thread.setContextClassLoader(app);
            assertEquals(Config.Mode.OBSERVE, Config.parse(Config.collect(new Properties(), Map.of())).mode);
        } finally {
            thread.setContextClassLoader(before);
        }
    }

    @Test
    void defaults() throws Exception {
        Config config = Config.parse(Config.collect(new Properties(), Map.of()));
        assertEquals(Config.Mode.ENFORCE, config.mode);
        assertEquals(Config.Durability.FAIL, config.durability);
        assertEquals(0, config.durable.length);
    }

    @Test
    void boundaries_activationsWhenTheApplicationIsNamed_stackOtherwise_anythingElseNamesWhatIsAllowed() throws Exception {
        assertEquals(false, Config.parse(Map.of()).activations);
        Config named = Config.parse(Map.of("txguard.application", "com.acme.*, org.example.billing.*"));
        assertEquals(true, named.activations);
        assertTrue(MethodPattern.anyMatchesClass(named.application, "com.acme.orders.OrderService"));
        assertTrue(MethodPattern.anyMatchesClass(named.application, "org.example.billing.Invoices"));
        assertEquals(false, MethodPattern.anyMatchesClass(named.application, "org.example.other.Thing"));
        assertEquals(true, Config.parse(Map.of("txguard.boundaries", "activations", "txguard.application", "com.acme.*"))
                .activations);
        assertEquals(false, Config.parse(Map.of("txguard.boundaries", "stack", "txguard.application", "com.acme.*"))
                .activations);

        SQLException bad = assertThrows(SQLException.class, () -> Config.parse(Map.of("txguard.boundaries", "bytecode")));
        assertEquals("txguard configuration: txguard.boundaries='bytecode' is not a source of scope boundaries;"
                + " allowed: stack (the default without txguard.application), activations (the default with it; only"
                + " with the agent loaded at start-up)", bad.getMessage());
        SQLException unnamed = assertThrows(SQLException.class, () -> Config.parse(Map.of("txguard.boundaries", "activations")));
        assertTrue(unnamed.getMessage().startsWith("txguard configuration: txguard.boundaries=activations needs"
                + " txguard.application, the application's classes (com.acme.*)"), unnamed.getMessage());
        assertEquals("25000", unnamed.getSQLState());
        SQLException badPattern = assertThrows(SQLException.class, () -> Config.parse(Map.of("txguard.application", "com..acme")));
        assertTrue(badPattern.getMessage().contains("txguard.application: 'com..acme' has no valid class name"),
                badPattern.getMessage());
    }

    @Test
    void unknownKeysAreRefusedWhereverTheyComeFrom() throws Exception {
        SQLException fromEnv = assertThrows(SQLException.class,
                () -> Config.collect(new Properties(), Map.of("TXGUARD_MOOD", "x")));
        assertTrue(fromEnv.getMessage().contains("unknown environment variable 'txguard.mood'"), fromEnv.getMessage());
        Path file = dir.resolve("bad.properties");
        Files.writeString(file, "durabel=com.acme.Pay#send\n");
        SQLException fromFile = assertThrows(SQLException.class,
                () -> Config.collect(system("txguard.config", file.toString()), Map.of()));
        assertTrue(fromFile.getMessage().contains("'txguard.durabel'"), fromFile.getMessage());
        assertTrue(fromFile.getMessage().contains(file.toString()), fromFile.getMessage());
    }

    @Test
    void anUnreadableFileIsNamed() {
        String missing = dir.resolve("nowhere.properties").toString();
        SQLException e = assertThrows(SQLException.class,
                () -> Config.collect(system("txguard.config", missing), Map.of()));
        assertTrue(e.getMessage().contains("txguard.config=" + missing + " cannot be read"), e.getMessage());
        assertEquals("25000", e.getSQLState());
    }

    @Test
    void patternsMatchAsDocumented() throws Exception {
        MethodPattern[] p = MethodPattern.parseList("txguard.durable", "com.acme.ledger.*#*, com.acme.pay.Transfers#to*", true);
        assertTrue(p[0].matches("com.acme.ledger.sub.Book", "post"));
        assertTrue(p[1].matches("com.acme.pay.Transfers", "toOtherBank"));
        assertTrue(!p[1].matches("com.acme.pay.Transfers", "fromOtherBank"));
        assertTrue(!p[0].matches("com.acme.ledgers.Book", "post"));
    }
}
