package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txguard.TxGuardDataSource;
import dev.txguard.TxGuardDriver;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.DriverPropertyInfo;
import java.sql.SQLException;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Bad input gets a clear error naming what was wrong and what is allowed; SQLState class 25. */
class ConfigurationTest {

    private static SQLException connectFails(String url, String... settings) {
        Properties p = new Properties();
        for (int i = 0; i < settings.length; i += 2) p.setProperty(settings[i], settings[i + 1]);
        SQLException e = assertThrows(SQLException.class, () -> DriverManager.getConnection(url, p).close());
        assertTrue(e.getSQLState().startsWith("25"), e.getSQLState() + ": " + e.getMessage());
        return e;
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "jdbc:txguard:|names no database",
        "jdbc:txguard:txguard:h2:mem:x|prefix twice",
        "jdbc:txguard:jdbc:h2:mem:x|repeats 'jdbc:'",
        "jdbc:txguard:nosuchdb://host/db|no JDBC driver on the class path accepts 'jdbc:nosuchdb://host/db'",
    })
    void malformedUrls(String url, String expected) {
        SQLException e = connectFails(url);
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void credentialsInAUrl_neverAppearInTheError() {
        SQLException e = connectFails("jdbc:txguard:nosuchdb://scott:tiger@host/db?password=tiger2");
        assertFalse(e.getMessage().contains("tiger"), e.getMessage());
        assertFalse(e.getMessage().contains("scott"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "txguard.mode|strict|allowed: enforce (default), observe",
        "txguard.durability|maybe|allowed: fail (default), warn, off",
        "txguard.durable|com.acme.Pay.send|names no method",
        "txguard.durable|com..acme.Pay#send|no valid class name",
        "txguard.durable|com.acme.Pay#se-nd|no valid method name",
        "txguard.helpers|#x|no valid class name",
        "txguard.boundaries|activations|txguard.boundaries cannot be a connection property; set it as a system property",
        "txguard.application|com.acme.*|txguard.application cannot be a connection property; set it as a system property",
        "txguard.modes|enforce|unknown connection property 'txguard.modes'; known keys: txguard.application, txguard.boundaries, txguard.config",
    })
    void badSettings(String key, String value, String expected) {
        SQLException e = connectFails("jdbc:txguard:h2:mem:config", key, value);
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(e.getMessage().contains(value) || key.equals("txguard.modes") || key.equals("txguard.boundaries")
                || key.equals("txguard.application"),
                e.getMessage());
    }

    @Test
    void theDriverFindsTheDelegateAndAsksItAboutProperties() throws SQLException {
        Driver driver = DriverManager.getDriver("jdbc:txguard:h2:mem:props");
        assertTrue(driver instanceof TxGuardDriver);
        assertFalse(driver.acceptsURL("jdbc:h2:mem:plain"));
        assertNull(driver.connect("jdbc:h2:mem:plain", new Properties()), "not ours: the next driver's turn");
        // PostgreSQL's driver describes its properties without connecting (H2's describes none).
        DriverPropertyInfo[] info = driver.getPropertyInfo("jdbc:txguard:postgresql://127.0.0.1/test", new Properties());
        assertTrue(info.length > 0, "the real driver's property descriptions");
    }

    @Test
    void aDelegateDriverManagerDoesNotList_isFoundThroughTheContextClassLoader(@TempDir Path dir) throws Exception {
        Path services = dir.resolve("META-INF/services");
        Files.createDirectories(services);
        Files.writeString(services.resolve("java.sql.Driver"), ContextLoaderOnlyDriver.class.getName() + "\n");
        String url = "jdbc:txguard:contextonly:mem:context;DB_CLOSE_DELAY=-1";
        SQLException unknown = assertThrows(SQLException.class, () -> DriverManager.getConnection(url));
        assertTrue(unknown.getMessage().contains("no JDBC driver"), unknown.getMessage());

        Thread thread = Thread.currentThread();
        ClassLoader before = thread.getContextClassLoader();
        try (URLClassLoader webapp = new URLClassLoader(new URL[] {dir.toUri().toURL()}, before)) {
            thread.setContextClassLoader(webapp);
            try (Connection c = DriverManager.getConnection(url)) {
                assertTrue(c.getClass().getName().startsWith("dev.txguard."));
                assertEquals("H2", c.getMetaData().getDatabaseProductName());
            }
        } finally {
            thread.setContextClassLoader(before);
        }
    }

    @Test
    void beanFormDataSource_connectsThroughTheDriver() throws SQLException {
        TxGuardDataSource ds = new TxGuardDataSource();
        SQLException noUrl = assertThrows(SQLException.class, ds::getConnection);
        assertTrue(noUrl.getMessage().contains("has no url"), noUrl.getMessage());
        ds.setUrl("jdbc:h2:mem:bean");
        assertEquals("jdbc:txguard:h2:mem:bean", ds.getUrl());
        try (Connection c = ds.getConnection()) {
            assertTrue(c.getClass().getName().startsWith("dev.txguard."));
        }
    }
}
