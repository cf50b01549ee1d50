package dev.txguard.agent;

import dev.txguard.internal.Guard;
import java.sql.Connection;
import java.sql.SQLException;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the end of every {@code Driver.connect}, {@code DataSource.getConnection} and
 * {@code PooledConnection.getConnection}: the connection the method returns is guarded, unless it is
 * null or already guarded (a pool over a guarded connection, a spy over one, jdbc:txguard:).
 */
public final class GuardConnectionAdvice {

    private GuardConnectionAdvice() {}

    @Advice.OnMethodExit
    public static void guard(@Advice.This Object source, @Advice.Return(readOnly = false) Connection connection)
            throws SQLException {
        connection = Guard.guardReturned(source, connection);
    }

    /**
     * For a {@code connect} or {@code getConnection()} declared to return its own connection class (MariaDB's
     * driver and pooled connection, Druid's data source): a guard goes over that connection in place (see
     * GuardBridgedConnection for the interface's bridge, which returns the guard itself).
     */
    public static final class InPlace {
        private InPlace() {}

        @Advice.OnMethodExit
        public static void guard(@Advice.This Object source, @Advice.Return Connection connection) throws SQLException {
            Guard.guardInPlace(source, connection);
        }
    }
}
