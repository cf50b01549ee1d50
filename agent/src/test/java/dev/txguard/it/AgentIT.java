package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The agent on an application that has no txguard code: the samples' BankApp, run in a separate JVM
 * with {@code -javaagent}, on H2, PostgreSQL and MariaDB, in every way it can obtain connections.
 * What was committed is checked from this JVM, through a connection of its own.
 */
class AgentIT {

    private static final Path AGENT = Path.of(System.getProperty("txguard.agent.jar"));
    private static final String DURABLE =
            "durable=dev.txguard.samples.bank.Payments#sendWire,dev.txguard.samples.bank.Payments#queueWire";
    private static final Path TARGET = AGENT.getParent();
    private static final String[] LAYOUTS =
            {"drivermanager", "vendor-datasource", "pooled-connection", "hikari-url", "hikari-datasource-class"};

    /** This JVM's class path, less txguard and the test tools: what the unmodified application has. */
    private static final String APP_CLASSPATH = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
            .filter(entry -> {
                String name = Path.of(entry).getFileName().toString();
                return name.startsWith("h2-") || name.startsWith("postgresql-") || name.startsWith("mariadb-java-client-")
                        || name.startsWith("HikariCP-") || name.startsWith("slf4j-api-")
                        || name.startsWith("txguard-samples-") || entry.replace('\\', '/').contains("/samples/target/");
            })
            .collect(Collectors.joining(File.pathSeparator));

    static Stream<Arguments> everyDatabaseAndLayout() {
        List<Arguments> cases = new ArrayList<>();
        for (Database db : Database.samplesDatabases()) for (String layout : LAYOUTS) cases.add(Arguments.of(db, layout));
        return cases.stream();
    }

    /** Scope boundaries from stack walks (the default), and from activations once the application is named. */
    static Stream<Arguments> everyDatabaseLayoutAndBoundaries() {
        List<Arguments> cases = new ArrayList<>();
        for (Database db : Database.samplesDatabases()) {
            for (String layout : LAYOUTS) {
                cases.add(Arguments.of(db, layout, ""));
                cases.add(Arguments.of(db, layout, ",application=dev.txguard.samples.*"));
            }
        }
        return cases.stream();
    }

    private static String appUrl(Database database, String name) {
        // H2 in a file, so that this JVM can look at what the application's JVM left behind.
        if (database == Database.H2) return "jdbc:h2:file:" + TARGET.resolve("h2-" + name).toAbsolutePath();
        return database.newRawUrl();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("everyDatabaseLayoutAndBoundaries")
    void theUnmodifiedAppIsGuarded(Database database, String layout, String application) throws Exception {
        database.requireAvailable();
        String url = appUrl(database, layout);
        String output = run(List.of("-javaagent:" + AGENT + "=" + DURABLE + application), layout, url);
        assertTrue(output.contains("transfer: transfer failed and was rolled back"), output);
        assertTrue(output.contains("checkout: checkout failed: txguard: durable method dev.txguard.samples.bank.Payments"
                + ".sendWire"), output);
        assertTrue(output.contains("queued: wire refused: txguard: durable method dev.txguard.samples.bank.Payments"
                + ".queueWire returned with the transaction begun at dev.txguard.samples.bank.Payments.queueWire"), output);
        // The fee's code unwraps to the driver's own connection and commits there: the agent routes that
        // commit to the guard, so it releases a savepoint, and the cancelled refund takes the fee with it.
        assertTrue(output.contains("refund: refund failed and was rolled back: the refund was cancelled"), output);
        if (!layout.equals("pooled-connection")) { // a pooled handle's class is the vendor's business
            assertTrue(output.contains("connection: " + (layout.startsWith("hikari")
                    ? "com.zaxxer.hikari.pool.HikariProxyConnection" : "dev.txguard.internal.TxConnection")), output);
        }
        assertEquals("alice=10000 bob=10000 audit=0 wires=0", books(url), database + " " + layout);
    }

    @Test
    void theAgentJarIsOneSelfContainedFileWithByteBuddyRelocated() throws Exception {
        try (java.util.jar.JarFile jar = new java.util.jar.JarFile(AGENT.toFile())) {
            java.util.jar.Attributes main = jar.getManifest().getMainAttributes();
            assertEquals("dev.txguard.agent.TxGuardAgent", main.getValue("Premain-Class"));
            assertEquals("dev.txguard.agent.TxGuardAgent", main.getValue("Agent-Class"));
            assertEquals("true", main.getValue("Can-Retransform-Classes"));
            assertEquals("true", main.getValue("Multi-Release"));
            List<String> foreign = jar.stream().map(java.util.zip.ZipEntry::getName)
                    .filter(n -> n.endsWith(".class") && !n.startsWith("dev/txguard/"))
                    .collect(Collectors.toList());
            assertEquals(List.of(), foreign, "classes outside txguard's own packages could clash with the application's");
            assertTrue(jar.getEntry("dev/txguard/agent/shaded/bytebuddy/ByteBuddy.class") != null);
            assertTrue(jar.getEntry("dev/txguard/internal/Engine.class") != null);
        }
    }

    @Test
    void withoutTheAgent_theSameAppLosesMoney() throws Exception {
        // The control: proves that the checks above see the difference the agent makes.
        String url = appUrl(Database.H2, "no-agent");
        String output = run(List.of(), "drivermanager", url);
        assertTrue(output.contains("connection: org.h2.jdbc.JdbcConnection"), output);
        assertTrue(output.contains("queued: wire queued"), output); // and lost on close, unnoticed
        // The cancelled refund's credit and its fee, committed by their DAOs' own commits.
        assertEquals("alice=7775 bob=11500 audit=1 wires=1", books(url));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("everyDatabaseAndLayout")
    void attachedToARunningApp_guardsConnectionsFromThenOn(Database database, String layout) throws Exception {
        database.requireAvailable();
        String url = appUrl(database, "attach-" + layout);
        Process app = start(List.of(), layout, url, "await-attach");
        BufferedReader out = new BufferedReader(new InputStreamReader(app.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder seen = new StringBuilder();
        String pid = null;
        for (String line = out.readLine(); line != null; line = out.readLine()) {
            seen.append(line).append('\n');
            if (line.startsWith("ready ")) {
                pid = line.substring(6).trim();
                break;
            }
        }
        assertTrue(pid != null, "the application never became ready:\n" + seen);

        String attach = exec(List.of(java(), "-jar", AGENT.toString(), "attach", pid, DURABLE));
        assertTrue(attach.contains("txguard agent attached to " + pid), attach);

        try (Writer in = new OutputStreamWriter(app.getOutputStream(), StandardCharsets.UTF_8)) {
            in.write("go\n");
        }
        String rest = out.lines().collect(Collectors.joining("\n"));
        assertTrue(app.waitFor(120, TimeUnit.SECONDS), "the application did not finish");
        assertEquals(0, app.exitValue(), seen + rest);
        assertNoUnsafeWarning(seen + rest);
        assertTrue(rest.contains("checkout: checkout failed: txguard: durable method"), seen + rest);
        assertTrue(rest.contains("queued: wire refused: txguard: durable method"), seen + rest);
        assertEquals("alice=10000 bob=10000 audit=0 wires=0", books(url), database + " " + layout);
    }

    /**
     * Issue 3's precision: two calls of one method from one call site are two activations to the agent
     * (with txguard.application naming the application, scope boundaries come from activations).
     * StepRunnerApp's steps run through one runner frame, called from one line. Through the jdbc:txguard:
     * URL, without the agent, the stack walk takes the second runner activation for the first (the
     * documented limit): the first step's forgotten scope swallows the second step's commit, and nothing
     * is committed. Under the agent the first step's scope passes to the job, and the second step's commit
     * commits it, as plain JDBC does and as the model says.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("everyDatabase")
    void twoCallsFromOneCallSite_theAgentTellsThemApart_theStackWalkCannot(Database database) throws Exception {
        database.requireAvailable();
        String url = appUrl(database, "steps");
        String withAgent = runMain(List.of("-javaagent:" + AGENT + "=application=dev.txguard.samples.*"), APP_CLASSPATH,
                "dev.txguard.samples.StepRunnerApp", url);
        assertTrue(withAgent.contains("committed: [1]"), withAgent);
        String guardedUrl = "jdbc:txguard:" + url.substring("jdbc:".length());
        String withStackWalks = runMain(List.of(), APP_CLASSPATH + File.pathSeparator + DRIVER_CLASSPATH,
                "dev.txguard.samples.StepRunnerApp", guardedUrl);
        assertTrue(withStackWalks.contains("committed: []"), withStackWalks);
    }

    /**
     * Mockito's inline mock maker, the default from Mockito 5, injects a class into the bootstrap loader with no class
     * file and extends it; the agent used to log two errors with long stack traces for it in any suite that mocks.
     * It now reads that class from the loaded type, says nothing, and mocks (of a JDBC connection too) and real
     * connections work as they do without it.
     */
    @Test
    void mockitosInlineMocks_theAgentSaysNothing_andStillGuards() throws Exception {
        String classpath = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> {
                    String name = Path.of(entry).getFileName().toString();
                    return name.startsWith("mockito-core-") || name.startsWith("byte-buddy-") || name.startsWith("objenesis-")
                            || name.startsWith("h2-") || entry.replace('\\', '/').endsWith("/agent/target/test-classes");
                })
                .collect(Collectors.joining(File.pathSeparator));
        for (String arguments : new String[] {"", "=application=dev.txguard.it.*"}) {
            String output = runMain(List.of("-javaagent:" + AGENT + arguments), classpath, MockitoApp.class.getName());
            assertTrue(output.contains("mocked: mocked mocked"), output);
            assertTrue(output.contains("mocked connection: verified"), output);
            assertTrue(output.contains("connection: dev.txguard.internal.TxConnection"), output);
            assertTrue(output.contains("txguard agent installed"), "the agent's own log reaches this output: " + output);
            List<String> said = output.lines().filter(line -> !line.startsWith("connection: "))
                    .filter(line -> line.contains("txguard") || line.contains("SEVERE")).collect(Collectors.toList());
            assertEquals(List.of("INFO: txguard agent installed: every JDBC connection is guarded"),
                    said.stream().filter(line -> !line.contains("TxGuardAgent install")).collect(Collectors.toList()),
                    output);
        }
    }

    static Stream<Database> everyDatabase() {
        return Stream.of(Database.samplesDatabases());
    }

    /** txguard's driver, for running an application through the jdbc:txguard: URL without the agent. */
    private static final String DRIVER_CLASSPATH = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
            .filter(entry -> {
                String name = Path.of(entry).getFileName().toString();
                String path = entry.replace('\\', '/');
                return name.startsWith("txguard-driver-") && !name.contains("tests") || path.endsWith("/driver/target/classes");
            })
            .collect(Collectors.joining(File.pathSeparator));

    private static String runMain(List<String> jvmOptions, String classpath, String mainClass, String... args)
            throws Exception {
        List<String> command = new ArrayList<>();
        command.add(java());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(classpath);
        command.add(mainClass);
        command.addAll(List.of(args));
        return exec(command);
    }

    private static String run(List<String> jvmOptions, String layout, String url) throws Exception {
        Process p = start(jvmOptions, layout, url);
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the application did not finish");
        assertEquals(0, p.exitValue(), output);
        assertNoUnsafeWarning(output);
        return output;
    }

    /** JDK 24 and later warn at the first use of sun.misc.Unsafe: the agent must not make an application print that. */
    private static void assertNoUnsafeWarning(String output) {
        assertTrue(!output.contains("sun.misc.Unsafe"), "the JVM warned about sun.misc.Unsafe:\n" + output);
    }

    private static Process start(List<String> jvmOptions, String... appArguments) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(java());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(APP_CLASSPATH);
        command.add("dev.txguard.samples.BankApp");
        command.addAll(List.of(appArguments));
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }

    private static String exec(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "did not finish: " + command);
        assertEquals(0, p.exitValue(), output);
        assertNoUnsafeWarning(output);
        return output;
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** The books as another connection sees them. */
    private static String books(String url) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            return "alice=" + single(s, "SELECT balance FROM account WHERE id = 'alice'")
                    + " bob=" + single(s, "SELECT balance FROM account WHERE id = 'bob'")
                    + " audit=" + single(s, "SELECT COUNT(*) FROM audit")
                    + " wires=" + single(s, "SELECT COUNT(*) FROM wire");
        }
    }

    private static long single(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
