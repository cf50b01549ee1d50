package dev.txguard.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzzing the classifier against a reference by construction: each string is assembled from pieces
 * whose meaning the generator knows (transaction-control keywords in any case, with whitespace and
 * comments between their words, and noise that only contains such words inside comments, string
 * literals, quoted identifiers or dollar quotes), so the expected kind follows from how it was built.
 * No exception may escape, and the kind must be the expected one.
 */
class SqlFuzzTest {

    /** A generated statement and the kind it must be classified as. */
    static final class Case {
        final String sql;
        final int kind;

        Case(String sql, int kind) {
            this.sql = sql;
            this.kind = kind;
        }

        @Override
        public String toString() {
            return "[" + sql.replace("\n", "\\n") + "] expected " + Sql.describe(kind);
        }
    }

    @Property(tries = 3000)
    void onPostgreSql(@ForAll("postgresql") Case c) {
        assertEquals(c.kind, Sql.classify(c.sql, Dialect.POSTGRESQL), c.toString());
    }

    @Property(tries = 3000)
    void onMariaDb(@ForAll("mariadb") Case c) {
        assertEquals(c.kind, Sql.classify(c.sql, Dialect.MYSQL), c.toString());
    }

    @Property(tries = 3000)
    void onH2(@ForAll("h2") Case c) {
        assertEquals(c.kind, Sql.classify(c.sql, Dialect.H2), c.toString());
    }

    @Property(tries = 3000)
    void onSqlite(@ForAll("sqlite") Case c) {
        assertEquals(c.kind, Sql.classify(c.sql, Dialect.SQLITE), c.toString());
    }

    @Provide
    Arbitrary<Case> postgresql() {
        return cases(true, false, false);
    }

    @Provide
    Arbitrary<Case> mariadb() {
        return cases(false, true, false);
    }

    @Provide
    Arbitrary<Case> h2() {
        return cases(false, false, false);
    }

    @Provide
    Arbitrary<Case> sqlite() {
        return cases(false, false, true);
    }

    private Arbitrary<Case> cases(boolean postgres, boolean mysql, boolean sqlite) {
        Arbitrary<Case> one = Arbitraries.oneOf(control(postgres, mysql, sqlite), noise(postgres, mysql, sqlite));
        Arbitrary<Case> two = Combinators.combine(one, one, gap(postgres, mysql)).as((a, b, g) -> {
            boolean control = Sql.controlsTransaction(a.kind) || Sql.controlsTransaction(b.kind);
            boolean ddl = a.kind == Sql.IMPLICIT_COMMIT || b.kind == Sql.IMPLICIT_COMMIT;
            int kind = control ? Sql.MULTI_WITH_CONTROL : ddl ? Sql.IMPLICIT_COMMIT : Sql.OTHER;
            return new Case(a.sql + g + ";" + g + b.sql, kind);
        });
        Arbitrary<Case> single = Combinators.combine(gap(postgres, mysql), one, gap(postgres, mysql),
                Arbitraries.of("", ";", " ; ")).as((before, c, after, end) -> new Case(before + c.sql + after + end, c.kind));
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(3, single), net.jqwik.api.Tuple.of(1, two));
    }

    /** Transaction control: words in random case, anything harmless between them. */
    private Arbitrary<Case> control(boolean postgres, boolean mysql, boolean sqlite) {
        List<Case> forms = new java.util.ArrayList<>(List.of(
                new Case("BEGIN", Sql.BEGIN), new Case("BEGIN WORK", Sql.BEGIN), new Case("BEGIN TRANSACTION", Sql.BEGIN),
                new Case("START TRANSACTION", Sql.BEGIN), new Case("START TRANSACTION READ ONLY", Sql.BEGIN_WITH_MODES),
                new Case("COMMIT", Sql.COMMIT), new Case("COMMIT WORK", Sql.COMMIT), new Case("COMMIT AND NO CHAIN", Sql.COMMIT),
                new Case("COMMIT AND CHAIN", Sql.UNSUPPORTED_CONTROL), new Case("ROLLBACK", Sql.ROLLBACK),
                new Case("ROLLBACK TRANSACTION", Sql.ROLLBACK), new Case("ROLLBACK TO SAVEPOINT s1", Sql.OTHER),
                new Case("SAVEPOINT s1", Sql.OTHER), new Case("RELEASE SAVEPOINT s1", Sql.OTHER),
                new Case("CREATE TABLE t (id INT)", Sql.IMPLICIT_COMMIT), new Case("DROP TABLE t", Sql.IMPLICIT_COMMIT),
                new Case("SELECT 1", Sql.OTHER), new Case("INSERT INTO t VALUES (1)", Sql.OTHER)));
        if (postgres) {
            forms.add(new Case("END", Sql.COMMIT));
            forms.add(new Case("ABORT", Sql.ROLLBACK));
            forms.add(new Case("BEGIN ISOLATION LEVEL SERIALIZABLE", Sql.BEGIN_WITH_MODES));
        } else if (sqlite) {
            forms.add(new Case("END", Sql.COMMIT));
            forms.add(new Case("END TRANSACTION", Sql.COMMIT));
            forms.add(new Case("ABORT", Sql.OTHER)); // PostgreSQL's word; SQLite refuses it
            forms.add(new Case("BEGIN IMMEDIATE TRANSACTION", Sql.BEGIN_WITH_MODES));
            forms.add(new Case("BEGIN EXCLUSIVE", Sql.BEGIN_WITH_MODES));
            forms.add(new Case("ROLLBACK TRANSACTION TO SAVEPOINT s1", Sql.OTHER));
        } else {
            forms.add(new Case("SET AUTOCOMMIT OFF", Sql.AUTOCOMMIT_OFF));
            forms.add(new Case("SET AUTOCOMMIT ON", Sql.AUTOCOMMIT_ON));
        }
        Arbitrary<String> between = gap(postgres, mysql).map(g -> g.isEmpty() ? " " : g);
        return Arbitraries.of(forms).flatMap(form -> {
            String[] words = form.sql.split(" ");
            Arbitrary<List<String>> gaps = between.list().ofSize(words.length - 1);
            Arbitrary<List<Boolean>> upper = Arbitraries.of(true, false).list().ofSize(words.length);
            return Combinators.combine(gaps, upper).as((gs, ups) -> {
                StringBuilder sql = new StringBuilder();
                for (int i = 0; i < words.length; i++) {
                    if (i > 0) sql.append(gs.get(i - 1));
                    sql.append(ups.get(i) ? words[i].toUpperCase(java.util.Locale.ROOT) : words[i].toLowerCase(java.util.Locale.ROOT));
                }
                return new Case(sql.toString(), form.kind);
            });
        });
    }

    /** A statement that only mentions control words where they do not count. */
    private Arbitrary<Case> noise(boolean postgres, boolean mysql, boolean sqlite) {
        Arbitrary<String> word = Arbitraries.of("COMMIT", "ROLLBACK", "BEGIN", "END", "; COMMIT", "START TRANSACTION",
                "commit;", "'", "\"", "--", "/*", "*/", "$$", ";");
        List<Arbitrary<String>> containers = new java.util.ArrayList<>(List.of(
                word.map(w -> "SELECT '" + w.replace("'", "''") + "'"),
                word.map(w -> "SELECT 1 AS \"" + w.replace("\"", "\"\"") + "\""),
                // "/*" too: PostgreSQL nests comments, so it would open one that never closes
                word.map(w -> "SELECT 1 /* " + w.replace("*/", "* /").replace("/*", "/ *") + " */"),
                word.map(w -> "SELECT 1 -- " + w + "\n")));
        if (postgres) {
            containers.add(word.map(w -> "DO $body$ BEGIN PERFORM '" + w.replace("'", "''").replace("$", "") + "'; END $body$"));
            containers.add(word.map(w -> "SELECT $q$" + w.replace("$", "") + "$q$"));
        }
        if (sqlite) {
            containers.add(word.map(w -> "SELECT 1 AS [" + w + "]"));
            containers.add(word.map(w -> "SELECT `" + w.replace("`", "``") + "`"));
        }
        if (mysql) {
            containers.add(word.map(w -> "SELECT `" + w.replace("`", "``") + "`"));
            containers.add(word.map(w -> "SELECT 1 # " + w + "\n"));
        }
        return Arbitraries.oneOf(containers).map(sql -> new Case(sql, Sql.OTHER));
    }

    /** Whitespace and comments, as they may stand between words. */
    private Arbitrary<String> gap(boolean postgres, boolean mysql) {
        List<String> gaps = new java.util.ArrayList<>(List.of("", " ", "  ", "\n", "\t", " /* c */ ", "/**/", " -- c\n"));
        if (postgres) gaps.add(" /* a /* nested */ comment */ ");
        if (mysql) gaps.add(" # c\n");
        return Arbitraries.of(gaps);
    }
}
