package dev.txguard.agent;

import java.sql.Connection;
import java.sql.SQLException;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the end of HikariCP's {@code ProxyConnection.setAutoCommit}. From HikariCP 6 on, the pool's handle
 * remembers the value it was last given and answers {@code getAutoCommit()} from it, and decides from it on
 * close whether to roll back. Beneath the pool, a DAO's {@code setAutoCommit(true)} in a nested scope only ends
 * that scope: the transaction stays open, and the handle would report autocommit on, so that code which commits
 * only when autocommit is off (MyBatis) skips its commit. The handle remembers what the connection beneath it
 * reports instead, as DBCP's handles do.
 */
public final class HikariAutoCommitAdvice {

    private HikariAutoCommitAdvice() {}

    /**
     * Runs only after the pool's own setAutoCommit succeeded. Should reading the value back fail, the handle keeps
     * what HikariCP remembered: an error there must not turn the application's successful call into a failure.
     */
    @Advice.OnMethodExit(suppress = SQLException.class)
    public static void rememberWhatTheConnectionReports(@Advice.FieldValue("delegate") Connection delegate,
            @Advice.FieldValue(value = "isAutoCommit", readOnly = false) boolean remembered) throws SQLException {
        remembered = delegate.getAutoCommit();
    }
}
