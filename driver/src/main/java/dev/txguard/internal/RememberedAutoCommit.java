package dev.txguard.internal;

import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.util.Properties;

/**
 * HikariCP 6 and later answer a handle's {@code getAutoCommit()} from the value the handle was last given. Beneath
 * such a pool, a DAO's {@code setAutoCommit(true)} in a nested scope only ends that scope, yet the handle then
 * reports autocommit on while the transaction is still open, and code that commits only when autocommit is off
 * (MyBatis) skips its commit. Nothing beneath the pool can change what the handle remembers; txguard over the pool
 * can, and so can the agent (its HikariAutoCommitAdvice). So when the {@code jdbc:txguard:} driver connects for
 * such a pool without the agent, it says so, once.
 */
final class RememberedAutoCommit {

    private static final System.Logger LOG = System.getLogger("dev.txguard");
    private static final String HIKARI = "com.zaxxer.hikari.";
    /** The agent makes the pool's handles remember what the connection beneath them reports. */
    private static volatile boolean agentTakesCareOfIt;
    /** A HikariCP has opened a connection, and was warned about if it remembers: its version is read once. */
    private static volatile boolean settled;

    private RememberedAutoCommit() {}

    static void agentTakesCareOfIt() {
        agentTakesCareOfIt = true;
    }

    /** For tests: the next connection HikariCP opens is looked at again, and warned about again. */
    static void forget() {
        settled = false;
    }

    /**
     * HikariCP's connection-opening code calls the driver, or TxGuardDataSource, directly: it is among the top
     * frames, so a connect made elsewhere (an application connecting per request) walks no further than these.
     */
    private static final int POOL_REACH = 16;

    /** Called as the driver connects: walks the top of the stack, until the first HikariCP has been looked at. */
    static void checkTheConnectingPool() {
        if (settled || agentTakesCareOfIt) return;
        Class<?> pool = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE).walk(frames -> frames
                .limit(POOL_REACH)
                .map(StackWalker.StackFrame::getDeclaringClass)
                .filter(c -> c.getName().startsWith(HIKARI))
                .findFirst().orElse(null));
        if (pool == null) return;
        settled = true;
        String version = hikariVersion(pool);
        if (version == null || majorOf(version) < 6) return;
        LOG.log(Level.WARNING, () -> "txguard: HikariCP " + version + " opens this connection with txguard beneath it."
                + " HikariCP 6 and later answer getAutoCommit() from the value a handle was last given: after a nested"
                + " scope's setAutoCommit(true) the handle reports autocommit on while the transaction is still open,"
                + " and code that commits only when autocommit is off (MyBatis) skips its commit. Put txguard over the"
                + " pool instead (new dev.txguard.TxGuardDataSource(hikariDataSource)), or run the txguard agent,"
                + " which takes care of it: see README.md, HikariCP.");
    }

    /** From the Maven metadata in HikariCP's jar; null where it is not there (a repackaged copy). */
    private static String hikariVersion(Class<?> hikariClass) {
        ClassLoader loader = hikariClass.getClassLoader();
        if (loader == null) return null;
        try (InputStream in = loader.getResourceAsStream("META-INF/maven/com.zaxxer/HikariCP/pom.properties")) {
            if (in == null) return null;
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException | IllegalArgumentException unreadable) {
            return null;
        }
    }

    private static int majorOf(String version) {
        int end = 0;
        while (end < version.length() && Character.isDigit(version.charAt(end))) end++;
        return end == 0 ? -1 : Integer.parseInt(version.substring(0, end));
    }
}
