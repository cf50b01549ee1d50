package dev.txguard.internal;

import java.sql.Connection;
import java.sql.SQLException;

/** Lets tests outside this package read what the engine of a guarded connection keeps. */
public final class EngineProbe {

    private EngineProbe() {}

    /** Scopes open on a guarded connection (reached through any wrapper that supports unwrap). */
    public static int openScopes(Connection guarded) throws SQLException {
        return guarded.unwrap(TxConnection.class).engine.openScopes();
    }

    /** Reads the scopes of this connection's engine later, even after a pool has let go of the connection. */
    public static java.util.function.IntSupplier openScopesOf(Connection guarded) throws SQLException {
        Engine engine = guarded.unwrap(TxConnection.class).engine;
        return engine::openScopes;
    }

    /** The thread in the middle of a call on the test transaction's connection of the guarded one; null when none is. */
    public static Thread usingTheTestConnection(Connection guarded) throws SQLException {
        return ((PinnedConnection) guarded.unwrap(TxConnection.class).delegate).database.user();
    }

    /** Every warning said once per call site (SaidOnce) is said again at its next occurrence. */
    public static void forgetWhatWasSaidOnce() {
        SaidOnce.forget();
    }

    /** Each warning said once per call site so far, by its key, with how often its event occurred. */
    public static java.util.Map<String, Long> saidOnceCounts() {
        return SaidOnce.counts();
    }

    /** The jdbc:txguard: driver warns again about the next pool that remembers autocommit (see RememberedAutoCommit). */
    public static void forgetTheRememberedAutoCommitWarning() {
        RememberedAutoCommit.forget();
    }

    /** The agent, loaded at start-up, reports activations: scope boundaries come from them, not from stack walks. */
    public static boolean activationsReported() {
        return Activations.enabled;
    }

    /**
     * The database's own connection under a connection the agent guarded, for comparing with plain JDBC in
     * a JVM where the agent guards every connection; any other connection as it is.
     */
    public static Connection unguarded(Connection c) throws SQLException {
        return c instanceof TxConnection ? ((TxConnection) c).delegate : c;
    }

    /** The agent runs in this JVM (with stack walks or activations): the database's own driver hands out guarded connections. */
    public static boolean agentGuardsConnections() throws SQLException {
        try (Connection c = java.sql.DriverManager.getConnection("jdbc:h2:mem:")) {
            return guarded(c);
        }
    }

    /** Whether txguard guards this connection, here or beneath any wrapper that supports unwrap. */
    public static boolean guarded(Connection c) throws SQLException {
        return c.isWrapperFor(TxConnection.class);
    }

    /** The application may hold the driver's own objects, so nested scopes set their savepoints as they begin. */
    public static boolean setsSavepointsAtOnce(Connection guarded) throws SQLException {
        return guarded.unwrap(TxConnection.class).engine.setsSavepointsAtOnce();
    }

    public static int trackedApplicationSavepoints(Connection guarded) throws SQLException {
        return guarded.unwrap(TxConnection.class).engine.trackedApplicationSavepoints();
    }
}
