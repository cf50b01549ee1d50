package dev.txguard.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.util.List;
import java.util.Map;
import net.bytebuddy.jar.asm.ClassReader;
import org.junit.jupiter.api.Test;

/**
 * What Triage reads of a class by itself, before any super type: the kinds of method it declares, from its method
 * table walked in place over real compiled classes, fields with attributes of every length before it.
 */
class TriageTest {

    @Retention(RetentionPolicy.RUNTIME)
    @interface Marked {
        String value();
    }

    /** Fields carrying a constant, a generic signature and an annotation: each skipped by its attributes' lengths. */
    @SuppressWarnings("unused")
    static final class ManyFields implements Serializable {
        private static final long serialVersionUID = 42L;
        static final String GREETING = "a constant long enough to matter";
        @Marked("a field's annotation")
        private Map<String, List<Integer>> byName;
        private transient int count;

        void commit() {}

        @Marked("a method's annotation")
        <T extends Comparable<T>> T close(T value) {
            return value;
        }
    }

    @SuppressWarnings("unused")
    static final class ALoader extends ClassLoader {
        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            return super.loadClass(name, resolve);
        }
    }

    /** Methods that call close, commit and loadClass, but declare none of them. */
    @SuppressWarnings("unused")
    static final class CallsThemOnly {
        private final List<String> names = List.of("connect", "getConnection");

        void uses(java.sql.Connection c, ClassLoader loader) throws Exception {
            c.commit();
            c.close();
            loader.loadClass("x");
        }
    }

    @SuppressWarnings("unused")
    interface Declares {
        void setAutoCommit(boolean on);
    }

    @Test
    void theMethodsAClassDeclares_areReadByName_pastFieldsOfAnyShape() throws IOException {
        assertEquals(Triage.GUARDED_METHOD, declared(ManyFields.class));
        assertEquals(Triage.LOAD_CLASS, declared(ALoader.class));
        assertEquals(Triage.GUARDED_METHOD, declared(Declares.class));
    }

    @Test
    void methodsItOnlyCalls_orNamesInItsConstants_doNotCount() throws IOException {
        assertEquals(0, declared(CallsThemOnly.class));
        assertEquals(0, declared(TriageTest.class));
    }

    private static int declared(Class<?> type) throws IOException {
        String file = type.getName().substring(type.getName().lastIndexOf('.') + 1) + ".class";
        try (InputStream in = type.getResourceAsStream(file)) {
            return Triage.declaredMethods(new ClassReader(in.readAllBytes()));
        }
    }
}
