package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.txguard.internal.EngineProbe;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Faults the database, not the application, brings about: a real deadlock between two connections,
 * and a connection killed by the server in the middle of a nested scope. The application code is
 * legacy-shaped and catches what it catches; what matters is what it is told, and what another
 * connection sees afterwards.
 */
class FaultsTest {

    private static final ExecutorService OTHER_SESSION = Executors.newSingleThreadExecutor();

    @AfterAll
    static void stopOtherSession() {
        OTHER_SESSION.shutdownNow();
    }

    // ---------------------------------------------------------------- deadlocks

    @ParameterizedTest
    @EnumSource(value = Database.class, mode = EnumSource.Mode.EXCLUDE, names = {"SQLITE", "DERBY"})
    void deadlockInANestedScope_theAppGetsTheDatabasesErrorThenOneClearRefusal(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection other = prepareDeadlock(db);
            Connection service = db.guarded();
            prepareVictim(service, database);
            service.setAutoCommit(false);
            Legacy.sql(service, "INSERT INTO " + db.table + " (id, note) VALUES (10, 'outer work')");

            SQLException deadlock = assertThrows(SQLException.class, () -> daoUpdatingBothRows(service, other, db));
            assertTrue(deadlock.getSQLState().startsWith("40"), "the database's own error, untouched: " + deadlock);
            finishOther(other);

            // The service carries on as legacy code does. On MariaDB the server rolled everything back and
            // this insert would start a new transaction; on PostgreSQL it would fail as 'aborted'.
            SQLException refused = assertThrows(SQLException.class, () -> Legacy.sql(service,
                    "INSERT INTO " + db.table + " (id, note) VALUES (11, 'after the deadlock')"));
            assertEquals("25000", refused.getSQLState());
            assertTrue(refused.getMessage().contains("the database ended the whole transaction (SQLState "
                    + deadlock.getSQLState()), refused.getMessage());
            assertFalse(refused.getMessage().toLowerCase().contains("savepoint"), refused.getMessage());
            SQLException commit = assertThrows(SQLException.class, service::commit);
            assertTrue(commit.getMessage().contains("rollback-only because the database ended the whole transaction"),
                    commit.getMessage());
            service.rollback();
            service.setAutoCommit(true);

            assertEquals(0, EngineProbe.openScopes(service));
            db.assertCommitted(1, 2); // nothing of the service's: not its outer work, not the DAO's update
            assertEquals("one", note(db, 1));
            Legacy.sql(service, "INSERT INTO " + db.table + " (id, note) VALUES (12, 'retried')");
            db.assertCommitted(1, 2, 12);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Database.class, mode = EnumSource.Mode.EXCLUDE, names = {"SQLITE", "DERBY"})
    void deadlockInTheOutermostScope_laterWorkIsRefusedUntilTheOwnerRollsBack(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection other = prepareDeadlock(db);
            Connection service = db.guarded();
            prepareVictim(service, database);
            SQLException refused = assertThrows(SQLException.class,
                    () -> catchDeadlockAndCarryOn(service, other, db));
            assertEquals("25000", refused.getSQLState(), "the insert after the deadlock: " + refused);
            assertTrue(refused.getMessage().contains("the database ended the whole transaction"), refused.getMessage());
            service.rollback();
            service.setAutoCommit(true);
            db.assertCommitted(1, 2);
        }
    }

    /** The hazard the previous test guards against: plain JDBC on MariaDB commits the rest of a deadlocked transaction. */
    @ParameterizedTest
    @EnumSource(value = Database.class, names = "MARIADB")
    void withoutTxguard_workAfterADeadlockCommitsOnItsOwn(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection other = prepareDeadlock(db);
            Connection raw = db.raw();
            catchDeadlockAndCarryOn(raw, other, db);
            raw.setAutoCommit(true);
            db.assertCommitted(1, 2, 21); // half a unit of work: 20 was rolled back by the server, 21 committed
        }
    }

    /** A service that swallows the deadlock (logs it, say) and goes on to commit the rest. */
    private static void catchDeadlockAndCarryOn(Connection c, Connection other, TestDb db) throws Exception {
        c.setAutoCommit(false);
        Legacy.sql(c, "INSERT INTO " + db.table + " (id, note) VALUES (20, 'first half')");
        try {
            updateBothRows(c, other, db);
        } catch (SQLException deadlock) {
            assertTrue(deadlock.getSQLState().startsWith("40"), deadlock.toString());
            finishOther(other);
        }
        Legacy.sql(c, "INSERT INTO " + db.table + " (id, note) VALUES (21, 'second half')");
        c.commit();
    }

    /** The DAO: its own begin, commit, rollback on error, restore in finally. */
    private static void daoUpdatingBothRows(Connection c, Connection other, TestDb db) throws Exception {
        c.setAutoCommit(false);
        try {
            updateBothRows(c, other, db);
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    /**
     * Two rows, 1 and 2, exist; another session holds row 2 and has done more work than the victim.
     * Returns that other session.
     */
    private static Connection prepareDeadlock(TestDb db) throws SQLException {
        Legacy.sql(db.rawObserver(), "INSERT INTO " + db.table + " (id, note) VALUES (1, 'one'), (2, 'two')");
        Connection other = db.raw();
        switch (db.database) {
            case POSTGRESQL:
                // The session that waits deadlock_timeout first looks for the cycle and is the one aborted.
                Legacy.sql(other, "SET deadlock_timeout = '60s'");
                break;
            case H2:
                Legacy.sql(other, "SET LOCK_TIMEOUT 60000");
                break;
            default:
                break;
        }
        other.setAutoCommit(false);
        Legacy.sql(other, "UPDATE " + db.table + " SET note = 'other' WHERE id = 2");
        // InnoDB rolls back the transaction that did less work: make it the victim's.
        for (int id = 100; id < 130; id++) {
            Legacy.sql(other, "INSERT INTO " + db.table + " (id, note) VALUES (" + id + ", 'ballast')");
        }
        return other;
    }

    private static void prepareVictim(Connection victim, Database database) throws SQLException {
        if (database == Database.POSTGRESQL) Legacy.sql(victim, "SET deadlock_timeout = '100ms'");
        if (database == Database.H2) Legacy.sql(victim, "SET LOCK_TIMEOUT 60000");
    }

    private static CompletableFuture<Void> pendingOther;

    /**
     * Takes row 1, lets the other session queue for it, then asks for row 2: the cycle closes, and the
     * database picks this connection as the victim.
     */
    private static void updateBothRows(Connection c, Connection other, TestDb db) throws Exception {
        Legacy.sql(c, "UPDATE " + db.table + " SET note = 'victim' WHERE id = 1");
        String otherSession = sessionId(other, db.database);
        pendingOther = CompletableFuture.runAsync(() -> {
            try {
                Legacy.sql(other, "UPDATE " + db.table + " SET note = 'other' WHERE id = 1");
            } catch (SQLException e) {
                throw new IllegalStateException("the other session was not meant to lose the deadlock", e);
            }
        }, OTHER_SESSION);
        awaitLockWait(db, otherSession);
        Legacy.sql(c, "UPDATE " + db.table + " SET note = 'victim' WHERE id = 2");
    }

    private static void finishOther(Connection other) throws Exception {
        pendingOther.get(60, TimeUnit.SECONDS); // it got row 1 once the victim's transaction was rolled back
        other.rollback();
    }

    /**
     * Waits until the other session queues for the victim's lock. Not needed on MariaDB, where InnoDB
     * picks the victim by the work each transaction did, whoever closes the cycle; and not possible
     * there by polling, since InnoDB refreshes its lock tables only after 100 ms without a read.
     */
    private static void awaitLockWait(TestDb db, String session) throws SQLException {
        if (db.database == Database.MARIADB) return;
        String sql = db.database == Database.POSTGRESQL
                ? "SELECT count(*) FROM pg_stat_activity WHERE pid = " + session + " AND wait_event_type = 'Lock'"
                : "SELECT count(*) FROM INFORMATION_SCHEMA.SESSIONS WHERE SESSION_ID = " + session
                        + " AND BLOCKER_ID IS NOT NULL";
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (pendingOther.isDone()) pendingOther.join(); // surfaces the other session's failure
            try (Statement s = db.rawObserver().createStatement(); ResultSet rs = s.executeQuery(sql)) {
                rs.next();
                if (rs.getInt(1) > 0) return;
            }
        }
        throw new AssertionError("the other session never queued for the lock");
    }

    // ---------------------------------------------------------------- a connection killed mid-scope

    @ParameterizedTest
    @EnumSource(value = Database.class, mode = EnumSource.Mode.EXCLUDE, names = {"SQLITE", "DERBY"})
    void connectionKilledInANestedScope_theDriversErrorAndNoStateLeft(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            String killed = sessionId(c, database);
            c.setAutoCommit(false);
            db.insert(c, 1);
            SQLException lost = assertThrows(SQLException.class, () -> nestedDaoKilledMidway(c, db, killed));
            assertTrue(isConnectionError(lost), "the driver's connection error reaches the app: " + lost);
            assertEquals(0, EngineProbe.openScopes(c), "the engine forgot the transaction the server rolled back");
            SQLException rollback = assertThrows(SQLException.class, c::rollback); // the service's own handler
            assertTrue(isConnectionError(rollback), "told by the driver, not by a stale scope: " + rollback);
            db.assertCommitted();
        }
    }

    /**
     * The servers only: HikariCP evicts on class 08 and PostgreSQL's 57P0x, not on H2's own state for a
     * closed session (90121), so with H2 this would test HikariCP rather than txguard.
     */
    @ParameterizedTest
    @EnumSource(value = Database.class, names = {"POSTGRESQL", "MARIADB"})
    void connectionKilledInANestedScope_hikariEvictsItAndTheNextBorrowerWorks(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            HikariConfig config = new HikariConfig();
            config.setJdbcUrl(db.guardedUrl());
            config.setMaximumPoolSize(1);
            config.setPoolName("txguard-faults");
            try (HikariDataSource pool = new HikariDataSource(config)) {
                String killed;
                IntSupplier openScopes;
                try (Connection c = pool.getConnection()) {
                    killed = sessionId(c, database);
                    openScopes = EngineProbe.openScopesOf(c);
                    c.setAutoCommit(false);
                    db.insert(c, 1);
                    SQLException lost = assertThrows(SQLException.class, () -> nestedDaoKilledMidway(c, db, killed));
                    assertTrue(isConnectionError(lost), "the driver's connection error reaches the app: " + lost);
                    assertEquals(0, openScopes.getAsInt(), "the engine forgot the transaction the server rolled back");
                }
                db.assertCommitted();

                try (Connection next = pool.getConnection()) {
                    assertNotEquals(killed, sessionId(next, database), "HikariCP evicted the dead connection");
                    next.setAutoCommit(false);
                    db.insert(next, 2);
                    next.commit();
                    next.setAutoCommit(true);
                }
                db.assertCommitted(2);
                assertEquals(1, pool.getHikariPoolMXBean().getTotalConnections());
            }
        }
    }

    /** A DAO whose connection dies under it: killed after its begin, before its first statement. */
    private static void nestedDaoKilledMidway(Connection c, TestDb db, String session) throws SQLException {
        c.setAutoCommit(false);
        try {
            kill(db, session);
            db.insert(c, 2); // txguard's SAVEPOINT goes first, and meets the dead connection
            c.commit();
        } finally {
            try {
                c.setAutoCommit(true);
            } catch (SQLException alsoDead) {
                // the original error is the one that matters
            }
        }
    }

    private static boolean isConnectionError(SQLException e) {
        String state = e.getSQLState();
        return e instanceof SQLNonTransientConnectionException
                || state != null && (state.startsWith("08") || state.startsWith("57P0"));
    }

    private static void kill(TestDb db, String session) throws SQLException {
        switch (db.database) {
            case POSTGRESQL:
                try (Statement s = db.rawObserver().createStatement();
                     ResultSet rs = s.executeQuery("SELECT pg_terminate_backend(" + session + ")")) {
                    rs.next();
                    assertTrue(rs.getBoolean(1), "backend terminated");
                }
                break;
            case MARIADB:
                Legacy.sql(db.rawObserver(), "KILL CONNECTION " + session);
                break;
            default:
                try (Statement s = db.rawObserver().createStatement();
                     ResultSet rs = s.executeQuery("SELECT ABORT_SESSION(" + session + ")")) {
                    rs.next();
                    assertTrue(rs.getBoolean(1), "session aborted");
                }
        }
    }

    private static String sessionId(Connection c, Database database) throws SQLException {
        String sql = database == Database.POSTGRESQL ? "SELECT pg_backend_pid()"
                : database == Database.MARIADB ? "SELECT CONNECTION_ID()" : "SELECT SESSION_ID()";
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static String note(TestDb db, int id) throws SQLException {
        try (PreparedStatement ps = db.rawObserver().prepareStatement("SELECT note FROM " + db.table + " WHERE id = ?")) {
            ps.setInt(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }
}
