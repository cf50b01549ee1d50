package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A service per task, each on a thread of its own, as a server on virtual threads runs them: hundreds of threads
 * that each live for one transaction, through one small pool. Each service's DAOs nest in it; the even ones fail
 * after their DAOs committed. Virtual threads where the JDK has them (21 and later), platform threads before.
 */
class ThreadPerTaskTest {

    private static final int SERVICES = 400;
    private static final int PAIR = 100_000;

    @ParameterizedTest
    @EnumSource(Database.class)
    void aServicePerThread_eachDaoNestsInItsOwnService(Database database) throws Exception {
        ThreadFactory threads = virtualWhereTheJdkHasThem();
        try (TestDb db = TestDb.open(database); GuardedPool pool = db.guardedPool(true)) {
            ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
            List<Thread> started = new ArrayList<>();
            for (int id = 1; id <= SERVICES; id++) {
                int service = id;
                Thread thread = threads.newThread(() -> {
                    try {
                        service(db, pool, service);
                    } catch (Throwable e) {
                        unexpected.add(e);
                    }
                });
                thread.start();
                started.add(thread);
            }
            for (Thread thread : started) thread.join();
            assertTrue(unexpected.isEmpty(), () -> "services failed unexpectedly: " + unexpected);
            Set<Integer> expected = new TreeSet<>();
            for (int id = 1; id <= SERVICES; id += 2) {
                expected.add(id);
                expected.add(id + PAIR);
            }
            // unguarded, the even services' DAOs would have committed as well
            assertEquals(expected, db.committed(), database + ": rows another connection sees");
        }
    }

    /** Two DAOs in a service's transaction; an even service then fails and rolls back. */
    private static void service(TestDb db, GuardedPool pool, int id) throws SQLException {
        Legacy.Dao dao = new Legacy.Dao(db.table);
        try (Connection c = pool.getConnection()) {
            c.setAutoCommit(false);
            try {
                dao.saveClassic(c, id);
                dao.saveClassic(c, id + PAIR);
                if (id % 2 == 0) throw new ServiceFailure();
                c.commit();
            } catch (ServiceFailure e) {
                c.rollback();
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    /** {@code Thread.ofVirtual().factory()} on JDK 21 and later, called reflectively: the tests compile for Java 11. */
    private static ThreadFactory virtualWhereTheJdkHasThem() throws ReflectiveOperationException {
        java.lang.reflect.Method ofVirtual;
        try {
            ofVirtual = Thread.class.getMethod("ofVirtual");
        } catch (NoSuchMethodException beforeJdk21) {
            return Executors.defaultThreadFactory();
        }
        Object builder = ofVirtual.invoke(null);
        return (ThreadFactory) Class.forName("java.lang.Thread$Builder").getMethod("factory").invoke(builder);
    }
}
