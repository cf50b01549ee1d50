package dev.txguard;

import dev.txguard.internal.Guard;
import java.sql.Connection;
import java.sql.SQLException;

/** What an application can ask of txguard in code. Everything else it does needs no code at all. */
public final class TxGuard {

    private TxGuard() {}

    /**
     * Runs {@code callback} once the work done so far in the current transaction on {@code connection} is committed
     * for real: a side effect (an e-mail, a call to a payment API) that must not happen for work that is rolled back.
     *
     * <ul>
     * <li>No transaction open on the connection (autocommit on, no scope): it runs at once. In manual mode the
     *     connection is always in a transaction, and the callback waits for its commit.
     * <li>Inside a scope: it runs after the outermost scope's real commit, in registration order, once the commit is
     *     done (it may use this connection or another, and sees the committed data).
     * <li>Registered in a nested scope that is undone (rolled back, left by an error, a stray rollback, the
     *     connection closed or returned to its pool with scopes open, the database ending the transaction on its
     *     own), it never runs, nor do those registered in scopes inside it. A nested scope that commits hands its
     *     callbacks to the enclosing scope; the outermost rollback drops them all.
     * <li>A callback that registers another: that one runs in the same round.
     * <li>A callback that throws: the commit stands, the other callbacks run, and the failure is logged at ERROR
     *     (logger {@code dev.txguard}) with its stack trace. commit() does not throw it.
     * </ul>
     *
     * <p>A crash between the commit and the callback loses the callback: for a side effect that must happen, write
     * it to an outbox table in the transaction instead (docs/side-effects.md).
     *
     * @param connection any connection txguard guards: one from a {@code jdbc:txguard:} URL or a
     *     {@link TxGuardDataSource}, any connection under the agent, or a pool's handle on one
     * @throws SQLException (SQLState 25000) when the connection is not guarded, or is closed
     */
    public static void onCommit(Connection connection, Runnable callback) throws SQLException {
        Guard.onCommit(connection, callback);
    }
}
