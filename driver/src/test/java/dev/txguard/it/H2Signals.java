package dev.txguard.it;

import java.sql.SQLException;

/**
 * H2 has no SIGNAL statement: functions, bound with CREATE ALIAS, that fail as the server would; and one that looks at
 * txguard from inside a statement.
 */
public final class H2Signals {

    private H2Signals() {}

    public static int serializationFailure() throws SQLException {
        throw new SQLException("serialization failure stand-in", "40001");
    }

    /** The connection {@link #whoUsesTheConnection} asks about, and what it found, for TestTransactionTest. */
    static volatile java.sql.Connection watched;
    static volatile Thread usingDuringTheStatement;

    /** Called by H2 while it runs a statement: which thread is using the test transaction's connection meanwhile. */
    public static int whoUsesTheConnection() throws SQLException {
        usingDuringTheStatement = dev.txguard.internal.EngineProbe.usingTheTestConnection(watched);
        return 1;
    }

    /** A trigger that fails rows with an id of 100 and above as a serialization failure would, naming the row's note. */
    public static final class ConflictOnNote implements org.h2.api.Trigger {
        @Override
        public void fire(java.sql.Connection conn, Object[] oldRow, Object[] newRow) throws SQLException {
            if (((Number) newRow[0]).intValue() >= 100) throw new SQLException("conflict on " + newRow[1], "40001");
        }
    }
}
