package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The whole JDBC object graph stays guarded; SQL that would bypass the guard is refused. */
class WrappingTest {

    @ParameterizedTest
    @EnumSource(Database.class)
    void everyPathBackLeadsToTheGuardedConnection(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT id FROM " + db.table)) {
                assertSame(c, s.getConnection());
                assertSame(s, rs.getStatement());
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM " + db.table);
                 ResultSet rs = ps.executeQuery()) {
                assertSame(c, ps.getConnection());
                assertSame(ps, rs.getStatement());
            }
            String procedure = db.table + "_p";
            if (database == Database.MARIADB) Legacy.sql(db.raw(), "CREATE PROCEDURE " + procedure + "() BEGIN END");
            String call = database == Database.MARIADB ? "{call " + procedure + "()}"
                    : database == Database.DERBY ? "{call SYSCS_UTIL.SYSCS_SET_RUNTIMESTATISTICS(0)}" : "{call abs(1)}";
            if (database != Database.SQLITE) { // SQLite's driver has no CallableStatement
                try (CallableStatement cs = c.prepareCall(call)) {
                    assertSame(c, cs.getConnection());
                } finally {
                    if (database == Database.MARIADB) Legacy.sql(db.raw(), "DROP PROCEDURE " + procedure);
                }
            }
            DatabaseMetaData md = c.getMetaData();
            assertSame(c, md.getConnection());
            try (ResultSet tables = md.getTables(null, null, "%", null)) {
                Statement behind = tables.getStatement();
                if (behind != null) assertSame(c, behind.getConnection());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void unwrapReachesTheDriversOwnClasses(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            Class<?> vendor = db.raw().getClass();
            assertTrue(c.isWrapperFor(vendor));
            assertSame(vendor, c.unwrap(vendor).getClass());
            assertSame(c, c.unwrap(Connection.class));
            c.beginRequest(); // JDBC 4.3, forwarded
            c.endRequest();
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void transactionControlThatWouldBypassTheGuard_isRefused(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 1);
            try (Statement s = c.createStatement()) {
                SQLException multi = assertThrows(SQLException.class,
                        () -> s.execute("INSERT INTO " + db.table + " (id) VALUES (2); COMMIT"));
                assertEquals("25000", multi.getSQLState());
                assertTrue(multi.getMessage().contains("several statements"), multi.getMessage());
                assertThrows(SQLException.class, () -> s.addBatch("COMMIT"));
                assertThrows(SQLException.class, () -> s.executeQuery("COMMIT"));
                SQLException chain = assertThrows(SQLException.class, () -> s.execute("COMMIT AND CHAIN"));
                assertTrue(chain.getMessage().contains("cannot be translated"), chain.getMessage());
            }
            c.rollback();
            c.setAutoCommit(true);
            db.assertCommitted();
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void commentsAndLiteralsAreNotTransactionControl(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("/* COMMIT */ INSERT INTO " + db.table + " (id, note) VALUES (1, 'COMMIT; ROLLBACK')");
                s.execute("-- BEGIN\nINSERT INTO " + db.table + " (id, note) VALUES (2, 'begin')");
            }
            assertFalse(c.getAutoCommit());
            db.assertCommitted();
            c.commit();
            c.setAutoCommit(true);
            db.assertCommitted(1, 2);
        }
    }

    /** Derby knows no SQL BEGIN or COMMIT, and its driver prepares a statement as it is created. */
    @ParameterizedTest
    @EnumSource(value = Database.class, mode = EnumSource.Mode.EXCLUDE, names = "DERBY")
    void preparedTransactionControl_isAnEventToo(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            try (PreparedStatement begin = c.prepareStatement("BEGIN");
                 PreparedStatement commit = c.prepareStatement("COMMIT")) {
                begin.execute();
                assertFalse(c.getAutoCommit());
                db.insert(c, 1);
                db.assertCommitted();
                commit.execute();
            }
            assertTrue(c.getAutoCommit());
            db.assertCommitted(1);
            assertNotNull(c.getMetaData().getDatabaseProductName());
        }
    }
}
