package dev.txguard.it;

import java.sql.SQLException;

/** H2 has no SIGNAL statement: functions, bound with CREATE ALIAS, that fail as the server would. */
public final class H2Signals {

    private H2Signals() {}

    public static int serializationFailure() throws SQLException {
        throw new SQLException("serialization failure stand-in", "40001");
    }

    /** A trigger that fails rows with an id of 100 and above as a serialization failure would, naming the row's note. */
    public static final class ConflictOnNote implements org.h2.api.Trigger {
        @Override
        public void fire(java.sql.Connection conn, Object[] oldRow, Object[] newRow) throws SQLException {
            if (((Number) newRow[0]).intValue() >= 100) throw new SQLException("conflict on " + newRow[1], "40001");
        }
    }
}
