package dev.txguard.it;

import java.sql.SQLException;

/** H2 has no SIGNAL statement: functions, bound with CREATE ALIAS, that fail as the server would. */
public final class H2Signals {

    private H2Signals() {}

    public static int serializationFailure() throws SQLException {
        throw new SQLException("serialization failure stand-in", "40001");
    }
}
