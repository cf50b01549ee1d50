package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txguard.internal.EngineProbe;
import dev.txguard.internal.Guard;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Under the agent, JDBC code and drivers loaded by class loaders that do not see the application's class path
 * (plugin hosts, module systems, a web application with its own copy of txguard) are guarded like any other,
 * by the agent's one engine. The instrumented classes call txguard by name, so each such loader must resolve
 * txguard's classes to the agent's: otherwise every connection they open, and every method of theirs that
 * calls JDBC, would throw NoClassDefFoundError.
 */
class IsolatedLoadersUnderAgent {

    private static final String PLUGIN = "dev.txguard.it.plugin.IsolatedPlugin";
    private static final AtomicInteger TABLES = new AtomicInteger();

    /** Ways class loaders keep code apart from the application's class path. */
    enum Isolation {
        /** A plugin host's loader: the platform loader as parent, so the JDK and its own jars only. */
        PLATFORM_PARENT {
            @Override
            URLClassLoader loader(URL[] jars) {
                return new URLClassLoader(jars, ClassLoader.getPlatformClassLoader());
            }
        },
        /** A web application's loader: its own jars first, its own copy of txguard among them, then the application's. */
        CHILD_FIRST_WITH_ITS_OWN_TXGUARD {
            @Override
            URLClassLoader loader(URL[] jars) {
                URL[] withTxguard = java.util.Arrays.copyOf(jars, jars.length + 1);
                withTxguard[jars.length] = location(Guard.class);
                return new ChildFirst(withTxguard);
            }
        },
        /** A module system's loader (JBoss Modules' shape): its own loadClass(String), the JDK and its own jars only. */
        MODULE {
            @Override
            URLClassLoader loader(URL[] jars) {
                return new Module(jars);
            }
        };

        abstract URLClassLoader loader(URL[] jars);
    }

    static final class ChildFirst extends URLClassLoader {
        ChildFirst(URL[] jars) {
            super(jars, ClassLoader.getSystemClassLoader());
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            synchronized (getClassLoadingLock(name)) {
                Class<?> found = findLoadedClass(name);
                if (found == null && !name.startsWith("java.")) {
                    try {
                        found = findClass(name);
                    } catch (ClassNotFoundException notOwn) {
                        // the application's, below
                    }
                }
                return found != null ? found : super.loadClass(name, resolve);
            }
        }
    }

    static final class Module extends URLClassLoader {
        Module(URL[] jars) {
            super(jars, null);
        }

        @Override
        public Class<?> loadClass(String name) throws ClassNotFoundException {
            return resolve(name);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            return resolve(name);
        }

        private Class<?> resolve(String name) throws ClassNotFoundException {
            if (name.startsWith("java.") || name.startsWith("javax.")) {
                return ClassLoader.getPlatformClassLoader().loadClass(name);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> found = findLoadedClass(name);
                return found != null ? found : findClass(name);
            }
        }
    }

    @BeforeAll
    static void underTheAgent() throws Exception {
        assertTrue(EngineProbe.agentGuardsConnections(), "this class must run in a JVM started with the txguard agent");
    }

    static Stream<Arguments> everyDatabaseAndIsolation() {
        List<Arguments> cases = new ArrayList<>();
        for (Database database : Database.samplesDatabases()) {
            for (Isolation isolation : Isolation.values()) cases.add(Arguments.of(database, isolation));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("everyDatabaseAndIsolation")
    void aPluginsNestedDaoCommit_onlyEndsItsScope(Database database, Isolation isolation) throws Exception {
        database.requireAvailable();
        String url = database.newRawUrl();
        Driver driver = DriverManager.getDriver(url);
        URL[] jars = {location(driver.getClass()), location(IsolatedLoadersUnderAgent.class)};
        try (URLClassLoader loader = isolation.loader(jars)) {
            Class<?> plugin = Class.forName(PLUGIN, true, loader);
            assertSame(loader, plugin.getClassLoader(), "the plugin is the isolated loader's own");
            assertSame(Guard.class, Class.forName(Guard.class.getName(), false, loader),
                    "the loader resolves txguard to the agent's own classes");
            String table = "txg_isolated_" + ProcessHandle.current().pid() + "_" + TABLES.incrementAndGet();
            try (Connection work = (Connection) call(plugin, "open", driver.getClass().getName(), url);
                 Connection observer = (Connection) call(plugin, "open", driver.getClass().getName(), url)) {
                assertSame(loader, EngineProbe.unguarded(work).getClass().getClassLoader(),
                        "the connection comes from the isolated loader's driver");
                assertTrue(EngineProbe.guarded(work), "the isolated loader's driver hands out guarded connections");
                call(plugin, "createTable", observer, table);
                try {
                    call(plugin, "serviceThatRollsBackAfterANestedDao", work, table);
                    // unguarded, the DAO's commit would have committed 1 and 2
                    assertEquals(Set.of(), call(plugin, "committed", observer, table), database + ": rows another connection sees");
                } finally {
                    try (Statement s = observer.createStatement()) {
                        s.execute("DROP TABLE " + table);
                    }
                }
            }
        }
    }

    private static URL location(Class<?> type) {
        URL location = type.getProtectionDomain().getCodeSource().getLocation();
        assertNotNull(location, type + " has a code source");
        return location;
    }

    private static Object call(Class<?> plugin, String name, Object... arguments) throws Exception {
        for (Method method : plugin.getMethods()) {
            if (method.getName().equals(name)) {
                try {
                    return method.invoke(null, arguments);
                } catch (InvocationTargetException e) {
                    if (e.getCause() instanceof Exception) throw (Exception) e.getCause();
                    throw new AssertionError("the plugin's " + name + " failed", e.getCause());
                }
            }
        }
        throw new AssertionError(plugin + " has no method " + name);
    }
}
