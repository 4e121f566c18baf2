package io.scribeledger.config;

/** One known configuration key: its section, name, type and default. */
public record ConfigKey(String section, String name, Type type, Object defaultValue) {

  /** The JSON type a key holds; environment strings are converted to it. */
  public enum Type {
    STRING,
    INT,
    LONG,
    BOOLEAN,
    ARRAY
  }

  /** {@code section.name}, the form used in error messages. */
  public String path() {
    return section + "." + name;
  }

  /**
   * {@code SCRIBE_<SECTION>_<NAME IN UPPER SNAKE CASE>}, e.g. {@code
   * SCRIBE_LIMITS_MAX_VALUE_BYTES}.
   */
  public String envName() {
    return "SCRIBE_" + upperSnake(section) + "_" + upperSnake(name);
  }

  static String upperSnake(String camel) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < camel.length(); i++) {
      char c = camel.charAt(i);
      if (Character.isUpperCase(c) && i > 0) {
        out.append('_');
      }
      out.append(Character.toUpperCase(c));
    }
    return out.toString();
  }
}
