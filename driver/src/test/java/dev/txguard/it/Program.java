package dev.txguard.it;

import java.util.List;

/**
 * A random legacy-style program for model-based testing: a tree of methods, each a list of
 * transaction operations, calls (whose failures are caught or not), throws, and an optional
 * {@code finally setAutoCommit(true)}. Printed the way a shrunk counterexample is read.
 */
final class Program {

    enum Kind {
        INSERT, BEGIN, BEGIN_SQL, COMMIT, COMMIT_SQL, ROLLBACK, ROLLBACK_SQL, RESTORE, STRAY_ROLLBACK, CALL, THROW,
        RETURN, SAVEPOINT, ROLLBACK_TO_SAVEPOINT, CLOSE, ON_COMMIT
    }

    static final class Op {
        final Kind kind;
        final Method callee;
        final boolean caught;

        Op(Kind kind) {
            this(kind, null, false);
        }

        Op(Kind kind, Method callee, boolean caught) {
            this.kind = kind;
            this.callee = callee;
            this.caught = caught;
        }

        int size() {
            return kind == Kind.CALL ? 1 + callee.size() : 1;
        }

        void print(StringBuilder out, int indent) {
            out.append("  ".repeat(indent));
            switch (kind) {
                case INSERT: out.append("insert"); break;
                case BEGIN: out.append("setAutoCommit(false)"); break;
                case BEGIN_SQL: out.append("execute(\"BEGIN\")"); break;
                case COMMIT: out.append("commit()"); break;
                case COMMIT_SQL: out.append("execute(\"COMMIT\")"); break;
                case ROLLBACK: out.append("rollback()"); break;
                case ROLLBACK_SQL: out.append("execute(\"ROLLBACK\")"); break;
                case RESTORE: out.append("setAutoCommit(true)"); break;
                case STRAY_ROLLBACK: out.append("helper.rollback()"); break;
                case THROW: out.append("throw"); break;
                case RETURN: out.append("return"); break;
                case SAVEPOINT: out.append("if (!getAutoCommit()) sp = setSavepoint()"); break;
                case ROLLBACK_TO_SAVEPOINT: out.append("if (sp is still valid) rollback(sp)"); break;
                case CLOSE: out.append("close()"); break;
                case ON_COMMIT: out.append("TxGuard.onCommit(c, ran::add)"); break;
                case CALL:
                    out.append(caught ? "try { call {\n" : "call {\n");
                    callee.print(out, indent + 1);
                    out.append("  ".repeat(indent)).append(caught ? "} } catch { }" : "}");
                    break;
            }
            out.append('\n');
        }
    }

    static final class Method {
        final List<Op> body;
        final boolean finallyRestore;

        Method(List<Op> body, boolean finallyRestore) {
            this.body = body;
            this.finallyRestore = finallyRestore;
        }

        int size() {
            int n = 0;
            for (Op op : body) n += op.size();
            return n;
        }

        void print(StringBuilder out, int indent) {
            if (finallyRestore) out.append("  ".repeat(indent)).append("try {\n");
            int inner = finallyRestore ? indent + 1 : indent;
            for (Op op : body) op.print(out, inner);
            if (finallyRestore) out.append("  ".repeat(indent)).append("} finally { setAutoCommit(true) }\n");
        }

        @Override
        public String toString() {
            StringBuilder out = new StringBuilder("\n");
            print(out, 1);
            return out.toString();
        }
    }

    /** A program's own failure (an exception of the application, not of the database). */
    static final class ProgramException extends RuntimeException {
        ProgramException() {
            super("the program threw", null, false, false);
        }
    }

    private Program() {}
}
