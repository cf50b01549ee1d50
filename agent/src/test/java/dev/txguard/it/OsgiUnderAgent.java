package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txguard.internal.EngineProbe;
import dev.txguard.it.plugin.IsolatedPlugin;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.felix.framework.FrameworkFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.osgi.framework.Bundle;
import org.osgi.framework.Constants;
import org.osgi.framework.launch.Framework;

/**
 * Under the agent, each database's driver installed as a bundle in a real OSGi framework (Apache Felix), with no
 * configuration for txguard: the bundle's class loader sees only the JDK and what the bundle imports, and still
 * resolves txguard's classes to the agent's, so the driver's connections are guarded by the agent's engine.
 */
class OsgiUnderAgent {

    @TempDir
    static Path storage;
    private static Framework osgi;

    @BeforeAll
    static void startOsgi() throws Exception {
        assertTrue(EngineProbe.agentGuardsConnections(), "this class must run in a JVM started with the txguard agent");
        osgi = new FrameworkFactory().newFramework(Map.of(Constants.FRAMEWORK_STORAGE, storage.toString(),
                Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT));
        osgi.start();
    }

    @AfterAll
    static void stopOsgi() throws Exception {
        if (osgi == null) return;
        osgi.stop();
        osgi.waitForStop(10_000);
    }

    @ParameterizedTest
    @MethodSource("dev.txguard.it.Database#samplesDatabases")
    void aBundledDriversConnection_nestsADaosCommit(Database database) throws Exception {
        database.requireAvailable();
        String url = database.newRawUrl();
        Class<?> applications = DriverManager.getDriver(url).getClass();
        Bundle bundle = osgi.getBundleContext().installBundle(
                applications.getProtectionDomain().getCodeSource().getLocation().toString());
        Driver driver = (Driver) bundle.loadClass(applications.getName()).getDeclaredConstructor().newInstance();
        assertNotSame(applications.getClassLoader(), driver.getClass().getClassLoader(), "the bundle's own driver");
        String table = "txg_osgi_" + ProcessHandle.current().pid() + "_" + database.ordinal();
        // an observer from the bundle's driver too: an H2 in memory lives in the bundle's copy of H2
        try (Connection c = driver.connect(url, new Properties()); Connection observer = driver.connect(url, new Properties())) {
            assertTrue(EngineProbe.guarded(c), "the bundle's driver hands out guarded connections");
            IsolatedPlugin.createTable(observer, table);
            try {
                c.setAutoCommit(false);
                Legacy.insert(c, table, 1);
                new Legacy.Dao(table).saveClassic(c, 2);
                assertEquals(Set.of(), IsolatedPlugin.committed(observer, table),
                        "unguarded, the DAO's commit would have committed 1 and 2");
                c.rollback();
                c.setAutoCommit(true);
                assertEquals(Set.of(), IsolatedPlugin.committed(observer, table), database + ": rows another connection sees");
            } finally {
                try (Statement s = observer.createStatement()) {
                    s.execute("DROP TABLE " + table);
                }
            }
        }
    }
}
