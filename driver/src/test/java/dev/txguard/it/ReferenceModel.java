package dev.txguard.it;

import dev.txguard.it.Program.Method;
import dev.txguard.it.Program.Op;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a {@link Program} must leave visible to another connection under txguard, and which failures
 * it must meet, computed from the rules of docs/semantics.md. Written from those rules, not from
 * txguard's code: it knows nothing of stacks, heights or savepoints, only of method activations and
 * the blocks of work they own, the way a reader of the documentation thinks of them.
 */
final class ReferenceModel {

    /** One run of one method. */
    private static final class Activation {
        final Activation caller;

        Activation(Activation caller) {
            this.caller = caller;
        }
    }

    /** The work of one begin: the real transaction (first block) or a savepoint inside it. */
    private static final class Block {
        Activation owner;
        final boolean sql;
        final List<Row> rows = new ArrayList<>();
        /** On-commit callbacks registered in the block's work: they go where its rows go, but for one thing (onCommit). */
        final List<Integer> callbacks = new ArrayList<>();
        boolean rollbackOnly;
        /** When the work a rollback of this block undoes begins: its begin, or (nested) its last commit. */
        long mark;

        Block(Activation owner, boolean sql, long mark) {
            this.owner = owner;
            this.sql = sql;
            this.mark = mark;
        }
    }

    private static final class Row {
        final int id;
        final long at;

        Row(int id, long at) {
            this.id = id;
            this.at = at;
        }
    }

    /** An application savepoint: valid until its transaction ends or something rolls back before it. */
    private static final class AppSavepoint {
        final long at;
        boolean valid = true;

        AppSavepoint(long at) {
            this.at = at;
        }
    }

    /** A failure the program meets, by category, as ProgramRunner.category names them. */
    private static final class Failure extends Exception {
        final String category;

        Failure(String category) {
            super(category, null, false, false);
            this.category = category;
        }
    }

    /** PostgreSQL's driver refuses commit() and rollback() in autocommit mode; H2's and MariaDB's do nothing. */
    private final boolean endInAutocommitFails;
    /** PostgreSQL and MariaDB: releasing a savepoint also releases every one set after it; H2 keeps them. */
    private final boolean releaseDestroysLaterSavepoints;
    /**
     * For each rollback to an application savepoint, in the order the program reaches them: whether the
     * savepoint still exists. The runner performs only those that do: what the databases do with one
     * that is gone differs (H2 keeps savepoints that the standard destroys, MariaDB's driver ignores the
     * call), and is no part of txguard's semantics.
     */
    final List<Boolean> savepointRollbacks = new ArrayList<>();
    final Set<Integer> committed = new TreeSet<>();
    /** The on-commit callbacks that ran, in the order they ran (docs/side-effects.md). */
    final List<Integer> ran = new ArrayList<>();
    private int nextCallback;
    final List<String> failures = new ArrayList<>();
    private final List<Block> blocks = new ArrayList<>();
    private final List<AppSavepoint> savepoints = new ArrayList<>();
    /** Orders every event, so that "before" and "after" a savepoint mean what they say. */
    private long clock;
    /** The activation whose nested block its own end event closed last: its further end events do nothing. */
    private Activation endedItsOwn;
    private int nextId;
    /** The program closed the connection: open work was rolled back, and every later call on it fails. */
    private boolean closed;

    /**
     * MariaDB's driver, against the JDBC specification, accepts on a closed connection the calls that
     * would not change anything: getAutoCommit(), setAutoCommit(true), commit() and rollback().
     */
    private final boolean closedConnectionAllowsNoOps;

    ReferenceModel(boolean endInAutocommitFails, boolean releaseDestroysLaterSavepoints,
                   boolean closedConnectionAllowsNoOps) {
        this.endInAutocommitFails = endInAutocommitFails;
        this.releaseDestroysLaterSavepoints = releaseDestroysLaterSavepoints;
        this.closedConnectionAllowsNoOps = closedConnectionAllowsNoOps;
    }

    static ReferenceModel of(Database database) {
        return new ReferenceModel(database == Database.POSTGRESQL, database != Database.H2,
                database == Database.MARIADB);
    }

    /** Runs the program, then closes the connection: whatever is still open is rolled back. */
    void run(Method root) {
        Activation test = new Activation(null);
        try {
            call(test, root);
        } catch (Failure f) {
            failures.add("escaped: " + f.category);
        }
        blocks.clear();
    }

    private void call(Activation caller, Method m) throws Failure {
        Activation self = new Activation(caller);
        AppSavepoint sp = null;
        try {
            for (int i = 0; i < m.body.size(); i++) {
                Op op = m.body.get(i);
                if (op.kind == Program.Kind.RETURN) return;
                if (op.kind == Program.Kind.SAVEPOINT) {
                    if (closed && !closedConnectionAllowsNoOps) throw new Failure("database"); // its getAutoCommit()
                    if (!blocks.isEmpty()) sp = setSavepoint();
                    continue;
                }
                if (op.kind == Program.Kind.ROLLBACK_TO_SAVEPOINT) {
                    if (sp != null) rollbackTo(sp);
                    continue;
                }
                if (op.kind == Program.Kind.CALL) {
                    if (op.caught) {
                        try {
                            call(self, op.callee);
                        } catch (Failure f) {
                            failures.add("caught: " + f.category);
                        }
                    } else {
                        call(self, op.callee);
                    }
                } else {
                    execute(self, op);
                }
            }
        } finally {
            if (m.finallyRestore) restore(self);
            returned(self, caller);
        }
    }

    private void execute(Activation self, Op op) throws Failure {
        if (op.kind == Program.Kind.CLOSE) {
            close();
            return;
        }
        if (op.kind == Program.Kind.ON_COMMIT) {
            onCommit();
            return;
        }
        if (closed && op.kind != Program.Kind.THROW) {
            boolean noOp = op.kind == Program.Kind.COMMIT || op.kind == Program.Kind.ROLLBACK
                    || op.kind == Program.Kind.STRAY_ROLLBACK || op.kind == Program.Kind.RESTORE;
            if (noOp && closedConnectionAllowsNoOps) return;
            throw new Failure("database");
        }
        switch (op.kind) {
            case INSERT: insert(); break;
            case BEGIN: begin(self, false); break;
            case BEGIN_SQL: begin(self, true); break;
            case COMMIT: commit(self, false); break;
            case COMMIT_SQL: commit(self, true); break;
            case ROLLBACK: rollback(self, false, false); break;
            case ROLLBACK_SQL: rollback(self, true, false); break;
            case STRAY_ROLLBACK: rollback(self, false, true); break;
            case RESTORE: restore(self); break;
            case THROW: throw new Failure("program");
            default: throw new IllegalStateException(op.kind.toString());
        }
    }

    /** Closing rolls back whatever is open, as txguard does on every close (no commit-on-close). */
    private void close() {
        closed = true;
        blocks.clear();
        endedItsOwn = null;
        transactionEnded();
    }

    private Block top() {
        return blocks.get(blocks.size() - 1);
    }

    private Block pop() {
        Block b = blocks.remove(blocks.size() - 1);
        if (blocks.isEmpty()) {
            endedItsOwn = null;
            transactionEnded();
        }
        return b;
    }

    /** The real transaction ended (committed or rolled back): its savepoints are gone. */
    private void transactionEnded() {
        for (AppSavepoint sp : savepoints) sp.valid = false;
        savepoints.clear();
    }

    /** A nested block's work joins its parent: where releasing destroys later savepoints, those set in it go. */
    private void released(Block b) {
        if (!releaseDestroysLaterSavepoints) return;
        for (AppSavepoint sp : savepoints) if (sp.at > b.mark) sp.valid = false;
    }

    /** The innermost block's work since its mark is undone: so are the savepoints set after the mark. */
    private void undoTop() {
        Block b = top();
        b.rows.clear();
        b.callbacks.clear();
        for (AppSavepoint sp : savepoints) if (sp.at > b.mark) sp.valid = false;
    }

    private AppSavepoint setSavepoint() throws Failure {
        if (top().rollbackOnly) throw new Failure("txguard");
        AppSavepoint sp = new AppSavepoint(++clock);
        savepoints.add(sp);
        return sp;
    }

    private void rollbackTo(AppSavepoint target) {
        savepointRollbacks.add(target.valid);
        if (!target.valid) return; // not performed: see savepointRollbacks
        for (Block b : blocks) b.rows.removeIf(row -> row.at > target.at);
        for (AppSavepoint sp : savepoints) if (sp.at > target.at) sp.valid = false;
    }

    /**
     * A callback is registered in the work open now, as a row would be inserted, and runs when such a row would
     * commit, or never if it would be undone. Unlike a row, it is refused only on a closed connection (never in a
     * rollback-only block, where it is dropped with the block's work), and a rollback to an application savepoint
     * leaves it (txguard's scopes decide, not the application's savepoints).
     */
    private void onCommit() throws Failure {
        int id = nextCallback++;
        if (closed) throw new Failure("txguard");
        if (blocks.isEmpty()) {
            ran.add(id); // no transaction open
            return;
        }
        top().callbacks.add(id);
    }

    private void insert() throws Failure {
        int id = nextId++;
        if (blocks.isEmpty()) {
            committed.add(id); // autocommit
            clock++;
            return;
        }
        if (top().rollbackOnly) throw new Failure("txguard");
        top().rows.add(new Row(id, ++clock));
    }

    /** A begin by the owner of the innermost block opens nothing; any other opens a block. */
    private void begin(Activation self, boolean sql) {
        endedItsOwn = null;
        if (!blocks.isEmpty() && top().owner == self) return;
        blocks.add(new Block(self, sql, ++clock));
    }

    private void commit(Activation self, boolean sql) throws Failure {
        if (blocks.isEmpty()) {
            if (!sql && endInAutocommitFails) throw new Failure("database");
            return;
        }
        if (endedItsOwn == self) return;
        Block b = top();
        if (b.rollbackOnly) throw new Failure("txguard");
        if (blocks.size() == 1) {
            for (Row row : b.rows) committed.add(row.id);
            b.rows.clear();
            ran.addAll(b.callbacks);
            b.callbacks.clear();
            transactionEnded(); // the block goes on, in a new transaction
        } else {
            blocks.get(blocks.size() - 2).rows.addAll(b.rows);
            b.rows.clear();
            blocks.get(blocks.size() - 2).callbacks.addAll(b.callbacks);
            b.callbacks.clear();
            released(b);
        }
        b.mark = ++clock;
        if (b.sql) endByItsEvent(); // a SQL-begun block ends at its COMMIT; an API-begun one stays open
    }

    private void rollback(Activation self, boolean sql, boolean fromHelper) throws Failure {
        if (blocks.isEmpty()) {
            if (!sql && endInAutocommitFails) throw new Failure("database");
            return;
        }
        if (!fromHelper && endedItsOwn == self) return;
        Block b = top();
        if (blocks.size() == 1) {
            b.rows.clear();
            b.callbacks.clear();
            transactionEnded();
        } else {
            undoTop();
        }
        if (fromHelper || b.owner != self) {
            b.rollbackOnly = true; // a stray rollback: until its owner ends it
            return;
        }
        b.rollbackOnly = false;
        if (b.sql) {
            if (blocks.size() > 1) released(b);
            endByItsEvent();
        }
    }

    private void restore(Activation self) throws Failure {
        if (closed) {
            if (closedConnectionAllowsNoOps) return;
            throw new Failure("database");
        }
        if (blocks.isEmpty() || endedItsOwn == self) return;
        Block b = top();
        if (b.rollbackOnly) {
            if (blocks.size() > 1) undoTop();
        } else if (blocks.size() == 1) {
            for (Row row : b.rows) committed.add(row.id);
            ran.addAll(b.callbacks);
        } else {
            blocks.get(blocks.size() - 2).rows.addAll(b.rows);
            blocks.get(blocks.size() - 2).callbacks.addAll(b.callbacks);
        }
        if (blocks.size() > 1) released(b);
        endByItsEvent();
    }

    private void endByItsEvent() {
        Block b = pop();
        if (!blocks.isEmpty()) endedItsOwn = b.owner;
    }

    /** A method returned with its block open: the block merges into its caller's, or becomes its caller's. */
    private void returned(Activation self, Activation caller) {
        if (blocks.isEmpty() || top().owner != self) return;
        if (blocks.size() >= 2 && blocks.get(blocks.size() - 2).owner == caller) {
            if (top().rollbackOnly) undoTop();
            released(top());
            Block b = pop();
            top().rows.addAll(b.rows);
            top().callbacks.addAll(b.callbacks);
        } else {
            top().owner = caller;
        }
    }
}
