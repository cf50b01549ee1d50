package dev.txguard.it;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Application code in the shapes txguard must serve unchanged (see shared/legacy-shapes.md),
 * written the way legacy DAOs and services write it: no txguard API anywhere.
 */
final class Legacy {

    static void insert(Connection c, String table, int id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table + " (id) VALUES (?)")) {
            ps.setInt(1, id);
            ps.executeUpdate();
        }
    }

    static void sql(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /**
     * An owner that rolls back its first row, carries on and commits its second (id 2), then sets autocommit as
     * it wants it: plain JDBC, whatever txguard makes of the rollback.
     */
    static void rollBackThenCarryOn(Connection c, String table, boolean autoCommitAfter) throws SQLException {
        c.setAutoCommit(false);
        insert(c, table, 1);
        c.rollback();
        insert(c, table, 2);
        c.commit();
        c.setAutoCommit(autoCommitAfter);
    }

    /** A borrower that hands its connection back with two scopes open and nothing committed by their owner. */
    static void leaveTwoScopesOpen(Connection c, String table) throws SQLException {
        c.setAutoCommit(false);
        insert(c, table, 1);
        new Dao(table).saveNeverRestoring(c, 2);
        c.setAutoCommit(false);
        insert(c, table, 3);
    }

    /** The DAO layer: each method opens its own "transaction". */
    static final class Dao {
        final String table;

        Dao(String table) {
            this.table = table;
        }

        /** setAutoCommit(false) ... commit() ... finally setAutoCommit(true); several ids are one unit of work. */
        void saveClassic(Connection c, int... ids) throws SQLException {
            c.setAutoCommit(false);
            try {
                for (int id : ids) insert(c, table, id);
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }

        /** Flyway's and BenchBase's shape: remember getAutoCommit() and put it back. */
        void saveRestoringSaved(Connection c, int id) throws SQLException {
            boolean saved = c.getAutoCommit();
            c.setAutoCommit(false);
            try {
                insert(c, table, id);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(saved);
            }
        }

        /** Forgets to restore autocommit. */
        void saveNeverRestoring(Connection c, int id) throws SQLException {
            c.setAutoCommit(false);
            insert(c, table, id);
            c.commit();
        }

        /** Through static helpers, as many in-house frameworks do. */
        void saveWithHelpers(Connection c, int id) throws SQLException {
            Tx.begin(c);
            try {
                insert(c, table, id);
                Tx.commit(c);
            } catch (SQLException e) {
                Tx.rollback(c);
                throw e;
            } finally {
                Tx.end(c);
            }
        }

        /** Restores autocommit in its try and, to be safe, once more in finally. */
        void saveRestoringTwice(Connection c, int id) throws SQLException {
            try {
                c.setAutoCommit(false);
                insert(c, table, id);
                c.commit();
                c.setAutoCommit(true);
            } catch (SQLException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }

        /** Undoes its own work and returns normally. */
        void saveThenUndo(Connection c, int id) throws SQLException {
            c.setAutoCommit(false);
            try {
                insert(c, table, id);
                c.rollback();
            } finally {
                c.setAutoCommit(true);
            }
        }

        /** Calls a helper deep in the call tree that "cleans up" with a rollback, then tries to commit. */
        void saveWithStrayRollback(Connection c, int id, int afterId) throws SQLException {
            c.setAutoCommit(false);
            try {
                insert(c, table, id);
                Cleanup.rollbackQuietly(c);
                insert(c, table, afterId);
                c.commit();
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    /** Static transaction helpers used at every level. */
    static final class Tx {
        static void begin(Connection c) throws SQLException {
            c.setAutoCommit(false);
        }

        static void commit(Connection c) throws SQLException {
            c.commit();
        }

        static void rollback(Connection c) throws SQLException {
            c.rollback();
        }

        static void end(Connection c) throws SQLException {
            c.setAutoCommit(true);
        }
    }

    /** A utility that rolls back on its caller's behalf, from deep in the call tree. */
    static final class Cleanup {
        static void rollbackQuietly(Connection c) throws SQLException {
            c.rollback();
        }
    }
}
