package dev.txguard.agent;

import dev.txguard.internal.Guard;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import net.bytebuddy.asm.Advice;

/**
 * Inlined into the transaction methods of every connection class: when the application calls them on a
 * driver connection it unwrapped from a guarded one, the call goes to the guard instead, and the method's
 * own body is skipped. Any other call (the guard's engine, a pool's proxy, a connection nobody unwrapped)
 * runs the body as written. One class per method, because each passes its own arguments on.
 */
public final class UnwrappedCallAdvice {

    private UnwrappedCallAdvice() {}

    public static final class SetAutoCommit {
        private SetAutoCommit() {}

        @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
        public static boolean enter(@Advice.This Connection self, @Advice.Argument(0) boolean autoCommit)
                throws SQLException {
            Connection guard = Guard.guardOfUnwrapped(self);
            if (guard == null) return false;
            guard.setAutoCommit(autoCommit);
            return true;
        }
    }

    public static final class GetAutoCommit {
        private GetAutoCommit() {}

        @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
        public static Boolean enter(@Advice.This Connection self) throws SQLException {
            Connection guard = Guard.guardOfUnwrapped(self);
            return guard == null ? null : guard.getAutoCommit();
        }

        @Advice.OnMethodExit
        public static void exit(@Advice.Enter Boolean guarded, @Advice.Return(readOnly = false) boolean autoCommit) {
            if (guarded != null) autoCommit = guarded;
        }
    }

    public static final class Commit {
        private Commit() {}

        @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
        public static boolean enter(@Advice.This Connection self) throws SQLException {
            Connection guard = Guard.guardOfUnwrapped(self);
            if (guard == null) return false;
            guard.commit();
            return true;
        }
    }

    public static final class Rollback {
        private Rollback() {}

        @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
        public static boolean enter(@Advice.This Connection self) throws SQLException {
            Connection guard = Guard.guardOfUnwrapped(self);
            if (guard == null) return false;
            guard.rollback();
            return true;
        }
    }

    public static final class RollbackToSavepoint {
        private RollbackToSavepoint() {}

        @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
        public static boolean enter(@Advice.This Connection self, @Advice.Argument(0) Savepoint savepoint)
                throws SQLException {
            Connection guard = Guard.guardOfUnwrapped(self);
            if (guard == null) return false;
            guard.rollback(savepoint);
            return true;
        }
    }

    public static final class SetSavepoint {
        private SetSavepoint() {}

        @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
        public static Savepoint enter(@Advice.This Connection self) throws SQLException {
            Connection guard = Guard.guardOfUnwrapped(self);
            return guard == null ? null : guard.setSavepoint();
        }

        @Advice.OnMethodExit
        public static void exit(@Advice.Enter Savepoint guarded, @Advice.Return(readOnly = false) Savepoint savepoint) {
            if (guarded != null) savepoint = guarded;
        }
    }

    public static final class SetNamedSavepoint {
        private SetNamedSavepoint() {}

        @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
        public static Savepoint enter(@Advice.This Connection self, @Advice.Argument(0) String name) throws SQLException {
            Connection guard = Guard.guardOfUnwrapped(self);
            return guard == null ? null : guard.setSavepoint(name);
        }

        @Advice.OnMethodExit
        public static void exit(@Advice.Enter Savepoint guarded, @Advice.Return(readOnly = false) Savepoint savepoint) {
            if (guarded != null) savepoint = guarded;
        }
    }

    public static final class ReleaseSavepoint {
        private ReleaseSavepoint() {}

        @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
        public static boolean enter(@Advice.This Connection self, @Advice.Argument(0) Savepoint savepoint)
                throws SQLException {
            Connection guard = Guard.guardOfUnwrapped(self);
            if (guard == null) return false;
            guard.releaseSavepoint(savepoint);
            return true;
        }
    }

    public static final class Close {
        private Close() {}

        @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
        public static boolean enter(@Advice.This Connection self) throws SQLException {
            Connection guard = Guard.guardOfUnwrapped(self);
            if (guard == null) return false;
            guard.close();
            return true;
        }
    }
}
