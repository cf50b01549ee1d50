package dev.txguard.it;

import dev.txguard.it.Program.Method;
import dev.txguard.it.Program.Op;
import dev.txguard.it.Program.ProgramException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a {@link Program} on a real connection, with real frames: each call goes through one of eight
 * distinct methods ({@code f0} … {@code f7}, by the call's position in its caller), so that two
 * calls in a row are two different methods, as in real code, and txguard's stack walks see what
 * they would see in an application. Calls are dispatched inside {@code body} itself.
 */
final class ProgramRunner {

    private final Connection c;
    private final String table;
    /** Which rollbacks to an application savepoint to perform, in order (see ReferenceModel.savepointRollbacks). */
    private final java.util.Iterator<Boolean> savepointRollbacks;
    private int nextId;
    /** What each catch caught, in order, then what escaped the program (if anything). */
    final List<String> failures = new ArrayList<>();
    /** The on-commit callbacks that ran, by the order of their registration in the program, as they ran. */
    final List<Integer> ran = new ArrayList<>();
    private int nextCallback;

    ProgramRunner(Connection c, String table, List<Boolean> savepointRollbacks) {
        this.c = c;
        this.table = table;
        this.savepointRollbacks = savepointRollbacks.iterator();
    }

    void run(Method root) {
        try {
            f0(root);
        } catch (ProgramException | SQLException e) {
            failures.add("escaped: " + category(e));
        }
    }

    static String category(Exception e) {
        if (e instanceof ProgramException) return "program";
        String message = e.getMessage() == null ? "" : e.getMessage();
        if (message.startsWith("txguard")) return "txguard";
        return "database"; // each database words and codes its own errors differently
    }

    private void f0(Method m) throws SQLException { body(m); }
    private void f1(Method m) throws SQLException { body(m); }
    private void f2(Method m) throws SQLException { body(m); }
    private void f3(Method m) throws SQLException { body(m); }
    private void f4(Method m) throws SQLException { body(m); }
    private void f5(Method m) throws SQLException { body(m); }
    private void f6(Method m) throws SQLException { body(m); }
    private void f7(Method m) throws SQLException { body(m); }

    /** The method's own frame: every transaction call of the method is made from here. */
    private void body(Method m) throws SQLException {
        java.sql.Savepoint sp = null; // the method's own latest savepoint
        try {
            for (int i = 0; i < m.body.size(); i++) {
                Op op = m.body.get(i);
                switch (op.kind) {
                    case RETURN: return;
                    case SAVEPOINT:
                        if (!c.getAutoCommit()) sp = c.setSavepoint();
                        break;
                    case ROLLBACK_TO_SAVEPOINT:
                        if (sp != null && savepointRollbacks.hasNext() && savepointRollbacks.next()) c.rollback(sp);
                        break;
                    case INSERT:
                        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table + " (id) VALUES (?)")) {
                            ps.setInt(1, nextId++);
                            ps.executeUpdate();
                        }
                        break;
                    case BEGIN: c.setAutoCommit(false); break;
                    case COMMIT: c.commit(); break;
                    case ROLLBACK: c.rollback(); break;
                    case RESTORE: c.setAutoCommit(true); break;
                    case BEGIN_SQL:
                        try (Statement s = c.createStatement()) {
                            s.execute("BEGIN");
                        }
                        break;
                    case COMMIT_SQL:
                        try (Statement s = c.createStatement()) {
                            s.execute("COMMIT");
                        }
                        break;
                    case ROLLBACK_SQL:
                        try (Statement s = c.createStatement()) {
                            s.execute("ROLLBACK");
                        }
                        break;
                    case STRAY_ROLLBACK: Helper.rollback(c); break;
                    case CLOSE: c.close(); break; // the program goes on, and meets the closed connection
                    case ON_COMMIT:
                        int callback = nextCallback++;
                        dev.txguard.TxGuard.onCommit(c, () -> ran.add(callback));
                        break;
                    case THROW: throw new ProgramException();
                    case CALL:
                        // Dispatched here, not through a helper method: a helper's frame would be shared by
                        // every call (see "a dispatcher frame" in docs/semantics.md).
                        try {
                            switch (i % 8) {
                                case 0: f0(op.callee); break;
                                case 1: f1(op.callee); break;
                                case 2: f2(op.callee); break;
                                case 3: f3(op.callee); break;
                                case 4: f4(op.callee); break;
                                case 5: f5(op.callee); break;
                                case 6: f6(op.callee); break;
                                default: f7(op.callee); break;
                            }
                        } catch (ProgramException | SQLException e) {
                            if (!op.caught) throw e;
                            failures.add("caught: " + category(e));
                        }
                        break;
                }
            }
        } finally {
            if (m.finallyRestore) c.setAutoCommit(true);
        }
    }

    /** Rolls back on its caller's behalf, from one frame deeper: a stray rollback. */
    static final class Helper {
        static void rollback(Connection c) throws SQLException {
            c.rollback();
        }
    }
}
