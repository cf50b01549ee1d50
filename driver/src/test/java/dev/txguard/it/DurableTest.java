package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Behaviour 7: a method declared durable must be the outermost transaction, so its commit is real. */
class DurableTest {

    /**
     * Where a begin was, as messages give it: with its line from a stack walk; under the agent's activations,
     * the method only (instrumentation reports the method, not the line).
     */
    private static final String LINE = dev.txguard.internal.EngineProbe.activationsReported() ? "" : "\\(DurableTest\\.java:\\d+\\)";


    static final String DURABLE = "dev.txguard.it.DurableTest$Payments#sendToBank";

    /** Must commit for real before the bank is called: declared durable. */
    static final class Payments {
        final TestDb db;

        Payments(TestDb db) {
            this.db = db;
        }

        void sendToBank(Connection c) throws SQLException {
            c.setAutoCommit(false);
            try {
                db.insert(c, 50);
                c.commit();
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    /** Wrongly calls the durable payment inside its own transaction. */
    static final class Checkout {
        static void placeOrder(Connection c, TestDb db, boolean fail) throws SQLException {
            c.setAutoCommit(false);
            try {
                db.insert(c, 1);
                new Payments(db).sendToBank(c);
                if (fail) throw new IllegalStateException("stock ran out after the payment");
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void durableInsideATransaction_fails25001BeforeAnyWork(Database database) throws Exception {
        try (TestDb db = TestDb.open(database, "txguard.durable", DURABLE)) {
            Connection c = db.guarded();
            SQLException e = assertThrows(SQLException.class, () -> Checkout.placeOrder(c, db, false));
            assertEquals("25001", e.getSQLState());
            String m = e.getMessage();
            assertTrue(m.contains("DurableTest$Payments.sendToBank"), m);
            assertTrue(m.matches("(?s).*DurableTest\\$Checkout\\.placeOrder" + LINE + ".*"), m);
            assertTrue(m.contains("Fix:"), m);
            db.assertCommitted();
            assertTrue(c.getAutoCommit());
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void durableAtTopLevel_commitsForReal(Database database) throws Exception {
        try (TestDb db = TestDb.open(database, "txguard.durable", DURABLE)) {
            new Payments(db).sendToBank(db.guarded());
            db.assertCommitted(50);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void durableWithItsOwnNestedWork_isFine(Database database) throws Exception {
        try (TestDb db = TestDb.open(database, "txguard.durable", "dev.txguard.it.DurableTest$Checkout#placeOrder")) {
            Checkout.placeOrder(db.guarded(), db, false); // placeOrder is durable; Payments nests inside it
            db.assertCommitted(1, 50);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void durabilityWarn_logsBothPlacesAndCarriesOnAsASavepoint(Database database) throws Exception {
        try (TestDb db = TestDb.open(database, "txguard.durable", DURABLE, "txguard.durability", "warn");
             LogCapture log = LogCapture.start()) {
            Connection c = db.guarded();
            assertThrows(IllegalStateException.class, () -> Checkout.placeOrder(c, db, true));
            db.assertCommitted(); // the payment was only a savepoint, so the order's rollback took it
            assertEquals(1, log.count("DurableTest$Payments.sendToBank"), log.all());
            assertTrue(log.all().matches("(?s).*DurableTest\\$Checkout\\.placeOrder" + LINE + ".*"), log.all());
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void durabilityOff_noCheck(Database database) throws Exception {
        try (TestDb db = TestDb.open(database, "txguard.durable", DURABLE, "txguard.durability", "off")) {
            Checkout.placeOrder(db.guarded(), db, false);
            db.assertCommitted(1, 50);
        }
    }
}
