package io.pgsentinel.shared.json;

/**
 * A JSON document (a ZooKeeper node, an HTTP body) that cannot be accepted. The message names
 * the field and what is wrong with it; it never carries the document itself, which may be
 * large or hostile.
 */
public class DocumentException extends Exception {
    private final String field;

    public DocumentException(String field, String problem) {
        super(field.isEmpty() ? problem : field + ": " + problem);
        this.field = field;
    }

    public DocumentException(String field, String problem, Throwable cause) {
        super(field.isEmpty() ? problem : field + ": " + problem, cause);
        this.field = field;
    }

    /** The dotted path of the offending field ({@code primary.port}), or "" for the document as a whole. */
    public String field() {
        return field;
    }
}
