package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.txguard.it.Program.Kind;
import dev.txguard.it.Program.Method;
import dev.txguard.it.Program.Op;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * Model-based random testing: random legacy-style programs run through txguard on H2, PostgreSQL and
 * MariaDB, and what another connection then sees, and the failures the program met, must be what
 * {@link ReferenceModel} computes from the documented semantics. A divergence is shrunk to a minimal
 * program. CI runs the bounded number in junit-platform.properties; {@code -Djqwik.tries.default=N}
 * runs a long campaign (see docs/reliability.md).
 */
class ModelBasedTest {

    private static final Statistics STATS = new Statistics();

    @Property
    void onH2_programsDoWhatTheModelSays(@ForAll("programs") Method program, @ForAll boolean fromADataSource)
            throws Exception {
        check(Database.H2, program, fromADataSource);
    }

    @Property
    void onPostgreSql_programsDoWhatTheModelSays(@ForAll("programs") Method program, @ForAll boolean fromADataSource)
            throws Exception {
        check(Database.POSTGRESQL, program, fromADataSource);
    }

    @Property
    void onMariaDb_programsDoWhatTheModelSays(@ForAll("programs") Method program, @ForAll boolean fromADataSource)
            throws Exception {
        check(Database.MARIADB, program, fromADataSource);
    }

    private static final ThreadLocal<TestDb[]> TABLES = ThreadLocal.withInitial(() -> new TestDb[Database.values().length]);

    private static void check(Database database, Method program, boolean fromADataSource) throws Exception {
        TestDb db = table(database);
        Legacy.sql(db.rawObserver(), "DELETE FROM " + db.table);
        runAndCompare(db, program, fromADataSource);
        STATS.record(database, program.size());
    }

    /**
     * Runs the program through txguard on an empty table and compares the outcome with the model's. The connection
     * is one txguard opened from the driver, or one a DataSource handed it: both come in autocommit mode, and the
     * model is the same for both.
     */
    static void runAndCompare(TestDb db, Method program, boolean fromADataSource) throws Exception {
        ReferenceModel model = ReferenceModel.of(db.database);
        model.run(program);
        ProgramRunner runner;
        try (Connection c = fromADataSource ? db.guardedFromADataSource() : db.guarded()) {
            runner = new ProgramRunner(c, db.table, model.savepointRollbacks);
            runner.run(program);
        }
        assertEquals(model.failures, runner.failures, db.database + ": failures met" + program);
        Set<Integer> visible = db.committed();
        assertEquals(model.committed, visible, db.database + ": rows another connection sees" + program);
        assertEquals(model.ran, runner.ran, db.database + ": on-commit callbacks that ran, in order" + program);
    }

    /** One table per database for the whole run, emptied before each program. */
    private static TestDb table(Database database) throws SQLException {
        TestDb[] tables = TABLES.get();
        if (tables[database.ordinal()] == null) tables[database.ordinal()] = TestDb.open(database);
        return tables[database.ordinal()];
    }

    /** Every stray rollback in a random program is logged, rightly; thousands of them would drown the build log. */
    private static final java.util.logging.Logger TXGUARD_LOG = java.util.logging.Logger.getLogger("dev.txguard");
    private static java.util.logging.Level levelBefore;

    @net.jqwik.api.lifecycle.BeforeContainer
    static void quiet() {
        levelBefore = TXGUARD_LOG.getLevel();
        TXGUARD_LOG.setLevel(java.util.logging.Level.SEVERE);
    }

    @AfterContainer
    static void report() throws SQLException {
        TXGUARD_LOG.setLevel(levelBefore);
        for (TestDb db : TABLES.get()) {
            if (db != null) db.close();
        }
        STATS.print();
    }

    // ---- the programs

    @Provide
    Arbitrary<Method> programs() {
        return method(3);
    }

    private Arbitrary<Method> method(int depth) {
        Arbitrary<Op> op = depth == 0 ? leaf()
                : Arbitraries.frequencyOf(Tuple.of(5, leaf()), Tuple.of(2, call(depth - 1)));
        return Combinators.combine(op.list().ofMaxSize(6), Arbitraries.of(false, true)).as(Method::new);
    }

    private Arbitrary<Op> call(int depth) {
        return Combinators.combine(Arbitraries.lazy(() -> method(depth)), Arbitraries.of(false, true))
                .as((callee, caught) -> new Op(Kind.CALL, callee, caught));
    }

    private Arbitrary<Op> leaf() {
        return Arbitraries.frequency(
                Tuple.of(25, Kind.INSERT), Tuple.of(14, Kind.BEGIN), Tuple.of(5, Kind.BEGIN_SQL),
                Tuple.of(9, Kind.COMMIT), Tuple.of(4, Kind.COMMIT_SQL), Tuple.of(6, Kind.ROLLBACK),
                Tuple.of(3, Kind.ROLLBACK_SQL), Tuple.of(10, Kind.RESTORE), Tuple.of(3, Kind.STRAY_ROLLBACK),
                Tuple.of(2, Kind.THROW), Tuple.of(2, Kind.RETURN), Tuple.of(4, Kind.SAVEPOINT),
                Tuple.of(3, Kind.ROLLBACK_TO_SAVEPOINT), Tuple.of(1, Kind.CLOSE), Tuple.of(4, Kind.ON_COMMIT))
                .map(Op::new);
    }

    /** Programs and operations run per database, for docs/reliability.md. */
    private static final class Statistics {
        private final long[] programs = new long[Database.values().length];
        private final long[] operations = new long[Database.values().length];

        synchronized void record(Database database, int size) {
            programs[database.ordinal()]++;
            operations[database.ordinal()] += size;
        }

        /** A divergence fails its property before this runs; these are the programs that agreed. */
        synchronized void print() {
            for (Database d : Database.values()) {
                long n = programs[d.ordinal()];
                if (n == 0) continue;
                System.out.printf("model-based %s: %d programs agreed with the model, %.1f operations per program%n",
                        d, n, (double) operations[d.ordinal()] / n);
            }
        }
    }
}
