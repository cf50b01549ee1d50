package dev.txguard.it;

import dev.txguard.it.Program.Kind;
import dev.txguard.it.Program.Method;
import dev.txguard.it.Program.Op;
import dev.txguard.internal.EngineProbe;
import java.sql.Connection;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Minimal programs on which the model-based test once found txguard wrong: each stays as a regression test. */
class ModelCounterexamplesTest {

    private static Method method(boolean finallyRestore, Op... ops) {
        return new Method(List.of(ops), finallyRestore);
    }

    private static Op op(Kind kind) {
        return new Op(kind);
    }

    private static Op call(Method m) {
        return new Op(Kind.CALL, m, false);
    }

    static void check(Database database, Method program) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            ModelBasedTest.runAndCompare(db, program, false);
        }
    }

    /**
     * Found by the long campaign after call stacks became partial walks: with only four frames below an
     * activation compared, B's begin (returned) looked like D's frame, whose four callers were the same
     * methods at the same call sites, so D's stray rollback was taken for the owner's. Now every frame the
     * begin's walk took is compared.
     */
    @ParameterizedTest
    @EnumSource(Database.class)
    void aReturnedOwnerIsNotMistakenForACallWhoseNearestCallersLookAlike(Database database) throws Exception {
        check(database, method(false,
                op(Kind.INSERT),
                call(method(false,
                        call(method(false, op(Kind.BEGIN))),
                        call(method(false,
                                call(method(false, op(Kind.ROLLBACK), op(Kind.INSERT)))))))));
    }

    /**
     * Found by the campaign that first registered on-commit callbacks: a nested scope its owner left open and
     * rollback-only (a stray rollback inside it), then a callback registered by the caller, who commits. The
     * callback went to the scope that was over, and was dropped with it when the scope was settled at the commit;
     * now a registration settles such scopes first, as every event does.
     */
    @ParameterizedTest
    @EnumSource(Database.class)
    void aCallbackRegisteredAfterANestedScopeWasLeftRollbackOnly_isTheCallers(Database database) throws Exception {
        check(database, method(false, call(method(true,
                call(method(false, call(method(false, op(Kind.BEGIN))))),
                call(method(false, op(Kind.BEGIN), call(method(false, op(Kind.ROLLBACK))))),
                op(Kind.ON_COMMIT)))));
    }

    /** A nested scope left open by its owner, then a stray commit from a sibling method. */
    @ParameterizedTest
    @EnumSource(Database.class)
    void strayCommitAfterASiblingLeftItsScopeOpen(Database database) throws Exception {
        check(database, method(false, call(method(false,
                op(Kind.BEGIN),
                call(method(false, op(Kind.BEGIN))),
                call(method(false, op(Kind.INSERT), op(Kind.COMMIT)))))));
    }

    /**
     * The same program, its calls made through one helper method (a template, a dispatcher) from two
     * call sites. The dispatcher's frames of the two calls differ in the call site below them, so the
     * scope left open passes to the caller, and the sibling's stray commit commits, as in plain JDBC.
     */
    @ParameterizedTest
    @EnumSource(Database.class)
    void throughASharedDispatcherFrame_fromTwoCallSites_asTheModelSays(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); Connection c = db.guarded()) {
            c.setAutoCommit(false);
            dispatch(() -> c.setAutoCommit(false)); // C: begins, returns without ending
            dispatch(() -> {                        // D: works, then a commit from code that did not begin
                db.insert(c, 0);
                c.commit();
            });
            c.close();
            db.assertCommitted(0);
        }
    }

    /**
     * The same, the dispatcher called in a loop: both calls come from one call site, and the stack cannot
     * tell the second dispatcher activation from the first. The scope left open passes to the dispatcher
     * instead of the caller, so the sibling's work and its stray commit stay inside it. This pins down the
     * documented limitation: nothing is committed where plain JDBC would have committed, and nothing the
     * caller did not commit is committed either.
     */
    @ParameterizedTest
    @EnumSource(Database.class)
    void throughASharedDispatcherFrameInALoop_theLimitationIsAsDocumented(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); Connection c = db.guarded()) {
            c.setAutoCommit(false);
            List<Call> calls = List.of(
                    () -> c.setAutoCommit(false), // C: begins, returns without ending
                    () -> {                       // D: works, then a commit from code that did not begin
                        db.insert(c, 0);
                        c.commit();
                    });
            for (Call call : calls) dispatch(call);
            c.close();
            if (EngineProbe.activationsReported()) {
                db.assertCommitted(0); // the agent's activations tell the two dispatcher calls apart
            } else {
                db.assertCommitted();
            }
        }
    }

    /**
     * The documented limit of recognising activations by a bounded walk: two levels of one recursion,
     * deeper than the walk below them, called from the same call site, look alike. A begin at the deeper
     * level is then taken for the shallower level's own repeated begin, and opens no savepoint.
     */
    @ParameterizedTest
    @EnumSource(Database.class)
    void twoLevelsOfADeepRecursion_lookAlike_asDocumented(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); Connection c = db.guarded()) {
            recurse(c, db, 40);
            c.close();
            if (EngineProbe.activationsReported()) {
                db.assertCommitted(1); // the agent's activations tell the levels apart: as the model says
                return;
            }
            // The model says: the deeper begin nests, its rollback undoes only row 2, and level 20's restore
            // commits row 1. With the levels mistaken for one another, the rollback is the owner's and undoes
            // both, and the restore that follows ends the transaction: nothing is committed.
            db.assertCommitted();
        }
    }

    /** Every level calls the next from the same call site; level 20 begins, level 10 begins again. */
    private static void recurse(Connection c, TestDb db, int level) throws Exception {
        if (level == 20) {
            c.setAutoCommit(false);
            db.insert(c, 1);
        }
        if (level == 10) {
            c.setAutoCommit(false);
            db.insert(c, 2);
            c.rollback();
            c.setAutoCommit(true);
            return;
        }
        recurse(c, db, level - 1);
        if (level == 20) c.setAutoCommit(true);
    }

    interface Call {
        void run() throws Exception;
    }

    private static void dispatch(Call call) throws Exception {
        call.run();
    }
}
