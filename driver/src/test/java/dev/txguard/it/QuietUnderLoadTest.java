package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txguard.internal.EngineProbe;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What txguard writes under a workload whose transactions the database ends by the thousand (serialization
 * failures under SERIALIZABLE), and whose failing statements carry customers' data in the driver's message (pgjdbc's
 * "Batch entry 0 INSERT … ('…')", MariaDB's "Duplicate entry '…'", H2's "… VALUES ( /* 1 *&#47; '…' )"):
 *
 * <ul>
 * <li>no line when the database ends a transaction with no nested scope open, which is plain JDBC;
 * <li>one WARNING per call site when nested scopes were open, every later occurrence counted, at DEBUG only;
 * <li>no value from a statement in any of txguard's log lines, at any level, or in its own errors' messages,
 *     while the database's error stays chained for the application.
 * </ul>
 */
class QuietUnderLoadTest {

    /** A customer's data, as the application binds it: it must never appear in txguard's own text. */
    private static final String SECRET = "card-4111-1111-1111-1111";
    private static final Logger TXGUARD = Logger.getLogger("dev.txguard");

    @ParameterizedTest
    @EnumSource(value = Database.class, names = {"H2", "POSTGRESQL", "MARIADB"})
    void theDatabaseEndsTheTransactionWithNoNestedScope_nothingIsLogged_andLaterWorkIsStillRefused(Database database)
            throws Exception {
        try (TestDb db = TestDb.open(database); LogCapture log = LogCapture.start()) {
            conflictOnSecretNotes(db);
            Connection c = db.guarded();
            for (int attempt = 0; attempt < 3; attempt++) {
                c.setAutoCommit(false);
                db.insert(c, 1);
                SQLException failure = assertThrows(SQLException.class, () -> insertNote(c, db, 100, SECRET));
                assertTrue(failure.getSQLState().startsWith("40"), failure.toString());
                SQLException refused = assertThrows(SQLException.class, () -> db.insert(c, 2));
                assertEquals("25000", refused.getSQLState(), refused.toString());
                c.rollback();
                c.setAutoCommit(true);
            }
            db.assertCommitted();
            assertEquals("", log.all(), "a transaction the database ended with no nested scope open is plain JDBC");
        }
    }

    @ParameterizedTest
    @EnumSource(value = Database.class, names = {"H2", "POSTGRESQL", "MARIADB"})
    void theDatabaseEndsTheTransactionInANestedScope_saidOncePerCallSite_andCounted(Database database) throws Exception {
        Level before = TXGUARD.getLevel();
        TXGUARD.setLevel(Level.ALL);
        try (TestDb db = TestDb.open(database); LogCapture log = LogCapture.start()) {
            conflictOnSecretNotes(db);
            Connection c = db.guarded();
            int attempts = 5;
            for (int attempt = 0; attempt < attempts; attempt++) {
                c.setAutoCommit(false);
                db.insert(c, 1);
                int id = 100 + attempt;
                SQLException failure = assertThrows(SQLException.class, () -> daoInsertingANote(c, db, id));
                assertTrue(failure.getSQLState().startsWith("40"), failure.toString());
                c.rollback();
                c.setAutoCommit(true);
            }
            db.assertCommitted();
            String warning = "the database ended the whole transaction";
            assertEquals(attempts, log.count(warning), log.all());
            assertEquals(1, log.records.stream().filter(r -> r.getLevel() == Level.WARNING
                    && r.getMessage().contains(warning)).count(), log.all());
            assertTrue(log.all().contains("[occurrence " + attempts + " at this call site]"), log.all());
            long counted = EngineProbe.saidOnceCounts().entrySet().stream()
                    .filter(e -> e.getKey().contains("database ended the transaction at"))
                    .mapToLong(Map.Entry::getValue).sum();
            assertEquals(attempts, counted, EngineProbe.saidOnceCounts().toString());
        } finally {
            TXGUARD.setLevel(before);
        }
    }

    /**
     * Every kind of failure txguard handles, each with the customer's value in the driver's message: a nested scope
     * the database ended (a batch on PostgreSQL, as pgjdbc quotes its entries), a duplicate key in a nested scope
     * that its owner then commits (on PostgreSQL the transaction is aborted), the refusals that follow, and the
     * connection closed with the work open.
     */
    @ParameterizedTest
    @EnumSource(value = Database.class, names = {"H2", "POSTGRESQL", "MARIADB"})
    void failuresWhoseMessagesCarryValues_noValueInTxguardsText(Database database) throws Exception {
        Level before = TXGUARD.getLevel();
        TXGUARD.setLevel(Level.ALL);
        List<SQLException> caught = new ArrayList<>();
        try (TestDb db = TestDb.open(database); LogCapture log = LogCapture.start()) {
            conflictOnSecretNotes(db);
            Legacy.sql(db.raw(), "CREATE UNIQUE INDEX " + db.table + "_note ON " + db.table + " (note)");
            Legacy.sql(db.raw(), "INSERT INTO " + db.table + " (id, note) VALUES (50, '" + SECRET + "')");
            Connection c = db.guarded();

            // A nested scope the database ends, through a batch
            c.setAutoCommit(false);
            db.insert(c, 1);
            caught.add(assertThrows(SQLException.class, () -> daoBatchInsertingNotes(c, db, 100)));
            caught.add(assertThrows(SQLException.class, () -> db.insert(c, 2)));
            caught.add(assertThrows(SQLException.class, c::commit));
            c.rollback();
            c.setAutoCommit(true);

            // A duplicate key in a nested scope, which its owner catches and commits anyway
            c.setAutoCommit(false);
            db.insert(c, 3);
            daoSwallowingADuplicate(c, db, caught);
            try {
                c.commit();
            } catch (SQLException e) {
                caught.add(e);
                c.rollback();
            }
            c.setAutoCommit(true);

            // The same duplicate, and the connection closed with the work still open
            c.setAutoCommit(false);
            db.insert(c, 4);
            caught.add(assertThrows(SQLException.class, () -> insertNote(c, db, 5, SECRET)));
            c.close();

            for (SQLException e : caught) {
                assertTrue(chainMentions(e, SECRET) || e.getMessage().startsWith("txguard"),
                        "each failure is either the database's, carrying the value, or txguard's own: " + e);
                for (Throwable t = e; t != null; t = t.getCause()) {
                    if (String.valueOf(t.getMessage()).startsWith("txguard")) {
                        assertFalse(t.getMessage().contains(SECRET), "txguard's message quotes the value: " + t);
                    }
                }
            }
            assertTrue(caught.stream().anyMatch(e -> e.getMessage().startsWith("txguard")
                            && e.getMessage().contains("SQLState 40001")),
                    "txguard's refusals name the database's SQLState: " + caught);
            assertTrue(caught.stream().anyMatch(e -> !e.getMessage().startsWith("txguard") && e.getMessage().contains(SECRET)),
                    "the driver's own message carries the value, so the check means something: " + caught);
            assertTrue(log.records.size() >= 2, "enough was logged to make the check mean something: " + log.all());
            for (var record : log.records) {
                assertFalse(record.getMessage().contains(SECRET), "a value leaked into a log line: " + record.getMessage());
                assertEquals(null, record.getThrown(), "txguard logs no exception of the database's: " + record.getMessage());
            }
            db.assertCommitted(3, 50);
        } finally {
            TXGUARD.setLevel(before);
        }
    }

    // ---------------------------------------------------------------- the workload's shapes

    /** A legacy DAO: begins, inserts a note, commits, restores. */
    private static void daoInsertingANote(Connection c, TestDb db, int id) throws SQLException {
        c.setAutoCommit(false);
        try {
            insertNote(c, db, id, SECRET);
            c.commit();
        } finally {
            c.setAutoCommit(true);
        }
    }

    private static void daoBatchInsertingNotes(Connection c, TestDb db, int firstId) throws SQLException {
        c.setAutoCommit(false);
        try (PreparedStatement insert = c.prepareStatement("INSERT INTO " + db.table + " (id, note) VALUES (?, ?)")) {
            for (int i = 0; i < 3; i++) {
                insert.setInt(1, firstId + i);
                insert.setString(2, SECRET);
                insert.addBatch();
            }
            insert.executeBatch();
            c.commit();
        } finally {
            c.setAutoCommit(true);
        }
    }

    private static void daoSwallowingADuplicate(Connection c, TestDb db, List<SQLException> caught) throws SQLException {
        c.setAutoCommit(false);
        try {
            insertNote(c, db, 6, SECRET);
        } catch (SQLException duplicate) {
            caught.add(duplicate);
        }
        try {
            c.commit();
        } catch (SQLException e) {
            caught.add(e);
        } finally {
            c.setAutoCommit(true);
        }
    }

    static void insertNote(Connection c, TestDb db, int id, String note) throws SQLException {
        try (PreparedStatement insert = c.prepareStatement("INSERT INTO " + db.table + " (id, note) VALUES (?, ?)")) {
            insert.setInt(1, id);
            insert.setString(2, note);
            insert.executeUpdate();
        }
    }

    /**
     * Rows with an id of 100 and above fail as a serialization failure would, with the row's note in the message:
     * a trigger.
     */
    static void conflictOnSecretNotes(TestDb db) throws SQLException {
        Connection raw = db.raw();
        switch (db.database) {
            case POSTGRESQL:
                Legacy.sql(raw, "CREATE OR REPLACE FUNCTION " + db.table + "_conflict() RETURNS trigger AS $$ BEGIN"
                        + " IF NEW.id >= 100 THEN RAISE EXCEPTION 'conflict on %', NEW.note USING ERRCODE = '40001';"
                        + " END IF; RETURN NEW; END $$ LANGUAGE plpgsql");
                Legacy.sql(raw, "CREATE TRIGGER " + db.table + "_conflict BEFORE INSERT ON " + db.table
                        + " FOR EACH ROW EXECUTE FUNCTION " + db.table + "_conflict()");
                break;
            case MARIADB:
                Legacy.sql(raw, "CREATE TRIGGER " + db.table + "_conflict BEFORE INSERT ON " + db.table
                        + " FOR EACH ROW BEGIN DECLARE message VARCHAR(128); IF NEW.id >= 100 THEN"
                        + " SET message = CONCAT('conflict on ', NEW.note);"
                        + " SIGNAL SQLSTATE '40001' SET MESSAGE_TEXT = message; END IF; END");
                break;
            case H2:
                Legacy.sql(raw, "CREATE TRIGGER " + db.table + "_conflict BEFORE INSERT ON " + db.table
                        + " FOR EACH ROW CALL \"" + H2Signals.ConflictOnNote.class.getName() + "\"");
                break;
            default:
                throw new IllegalArgumentException(db.database.toString());
        }
    }

    private static boolean chainMentions(Throwable e, String value) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (String.valueOf(t.getMessage()).contains(value)) return true;
            if (t instanceof SQLException && ((SQLException) t).getNextException() != null
                    && chainMentions(((SQLException) t).getNextException(), value)) {
                return true;
            }
        }
        return false;
    }
}
