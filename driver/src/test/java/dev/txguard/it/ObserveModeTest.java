package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Behaviour 9: observe mode changes nothing and reports, once per call site, what enforce would change. */
class ObserveModeTest {

    @ParameterizedTest
    @EnumSource(Database.class)
    void observe_behavesLikePlainJdbc_andReportsEachSiteOnce(Database database) throws Exception {
        try (TestDb db = TestDb.open(database, "txguard.mode", "observe"); LogCapture log = LogCapture.start()) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            Connection c = db.guarded();
            for (int round = 0; round < 3; round++) {
                c.setAutoCommit(false);
                db.insert(c, 10 * round + 1);
                dao.saveNeverRestoring(c, 10 * round + 2); // enforce: a savepoint; plain: commits row 1 too
                c.rollback();
                c.setAutoCommit(true);
            }
            db.assertCommitted(1, 2, 11, 12, 21, 22); // exactly what plain JDBC leaves
            assertEquals(1, log.count("txguard nested commit at dev.txguard.it.Legacy$Dao.saveNeverRestoring"), log.all());
            assertTrue(log.all().contains("would release the savepoint"), log.all());
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void observe_reportsDurableViolationsWithoutFailing(Database database) throws Exception {
        try (TestDb db = TestDb.open(database, "txguard.mode", "observe", "txguard.durable", DurableTest.DURABLE);
             LogCapture log = LogCapture.start()) {
            Connection c = db.guarded();
            // Plain JDBC: the payment's commit took the order's row with it (and PostgreSQL then refuses the
            // order's rollback in autocommit mode, as it does without txguard).
            assertThrows(Exception.class, () -> DurableTest.Checkout.placeOrder(c, db, true));
            db.assertCommitted(1, 50);
            assertEquals(1, log.count("txguard durable at"), log.all());
        }
    }
}
