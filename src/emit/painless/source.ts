/**
 * The FIXED Painless source of the live matcher and tagger. No rule value is ever spliced in: the
 * compiled rules arrive in `params` (see encode.ts for the layout), so one compiled script serves
 * every rule set and Elasticsearch's script compilation limits stay out of reach.
 *
 * What each predicate matches is copied from the header of src/emit/dsl.ts (the reference); the
 * comments below say which line of it each function mirrors.
 *
 * Entry points (functions; Painless functions see neither `ctx` nor `params`, so both are passed):
 * - `int outliersRun(Map doc, Map P)`: matches every candidate rule against `doc` (the ingest `ctx`
 *   or the update `ctx._source`) and tags it; returns how many rules or errors it newly recorded.
 * - `boolean outliersMatchRule(Map doc, Map P, int ri)`: one rule, no tagging (the naive baseline).
 * - `int outliersTag(Map doc, Map P, List hits, List errs)`: the tagger alone (TAGGER_FUNCTIONS).
 */

/**
 * The tagger: writes the contract's tags for the rules `hits` (indices into P.m) and the errors
 * `errs` on `doc`. Layout of one rule's metadata P.m[i]:
 *   [id, types[], reason, summaryParts, modelName, modelType, techniques, extras|null]
 * summaryParts alternates literal text and field names: [lit, field, lit, field, …, lit].
 * P.xk lists every extra key of the rule set, so extra lists stay aligned with `rule_id`.
 *
 * `outliers.type` gets each of the rule's types (ee-outliers splits `outlier_type` on commas and
 * appends), so its length is not one per rule: `outliers.added.type_counts[i]` is how many entries
 * rule `rule_id[i]` added, which untag needs to remove exactly its own.
 * Provenance (`outliers.added`, read by untag): outliers_created, tags_created, outlier_tag,
 * threat_created [..], techniques [[technique id, rule id that brought it, …], …] — a list, not a map
 * keyed by technique id: such keys ("T1059.001") would become dynamic fields that clash in mappings
 * (T1059 a keyword, T1059.001 an object under it) and the event would be refused.
 */
export const TAGGER_FUNCTIONS = `
List oxList(Map m, String k) {
  def v = m.get(k);
  if (v instanceof List) { return v; }
  List l = new ArrayList();
  if (v != null) { l.add(v); }
  m.put(k, l);
  return l;
}
String oxStr(def v) {
  if (v instanceof Boolean) { return v ? 'True' : 'False'; }
  return v.toString();
}
void oxLeaf(def v, List out) {
  if (v == null) { return; }
  if (v instanceof List) { for (def e : v) { oxLeaf(e, out); } return; }
  if (v instanceof Map) { return; }
  out.add(v);
}
void oxWalk(def node, String path, int start, List out) {
  if (node instanceof Map) {
    Map m = (Map) node;
    int i = path.indexOf('.', start);
    while (i >= 0) {
      def c = m.get(path.substring(start, i));
      if (c != null) { oxWalk(c, path, i + 1, out); }
      i = path.indexOf('.', i + 1);
    }
    oxLeaf(m.get(path.substring(start)), out);
  } else if (node instanceof List) {
    for (def e : node) { oxWalk(e, path, start, out); }
  }
}
String oxSummary(Map doc, List parts) {
  StringBuilder b = new StringBuilder();
  for (int i = 0; i < parts.size(); ++i) {
    String p = parts.get(i);
    if (i % 2 == 0) { b.append(p); continue; }
    List vals = new ArrayList();
    oxWalk(doc, p, 0, vals);
    if (vals.isEmpty()) { b.append('{').append(p).append('}'); continue; }
    for (int j = 0; j < vals.size(); ++j) { if (j > 0) { b.append(', '); } b.append(oxStr(vals.get(j))); }
  }
  return b.toString();
}
int outliersTag(Map doc, Map P, List hits, List errs) {
  if (hits.isEmpty() && errs.isEmpty()) { return 0; }
  int changed = 0;
  boolean created = !doc.containsKey('outliers') || doc.get('outliers') == null;
  if (created) { doc.put('outliers', new HashMap()); }
  def od = doc.get('outliers');
  if (!(od instanceof Map)) { throw new IllegalArgumentException('outliers is not an object'); }
  Map o = (Map) od;
  def ad = o.get('added');
  Map added = ad instanceof Map ? (Map) ad : new HashMap();
  if (created) { added.put('outliers_created', true); }
  for (def ri : hits) {
    List m = P.m.get(ri);
    String id = m.get(0);
    try {
      def idv = o.get('rule_id');
      if (idv == id || (idv instanceof List && idv.contains(id))) { continue; }
      boolean tagsNew = !doc.containsKey('tags') || doc.get('tags') == null;
      def tv = doc.get('tags');
      if (!tagsNew && !(tv instanceof List) && !(tv instanceof String)) { throw new IllegalArgumentException('tags is not a list'); }
      def th = doc.get('threat');
      List techs = m.get(6);
      boolean thNew = th == null;
      if (!techs.isEmpty() && th != null && !(th instanceof Map)) { throw new IllegalArgumentException('threat is not an object'); }
      def tt = th == null ? null : th.get('technique');
      if (!techs.isEmpty() && tt != null && !(tt instanceof Map)) { throw new IllegalArgumentException('threat.technique is not an object'); }
      List ids = oxList(o, 'rule_id');
      List types = oxList(o, 'type');
      List reasons = oxList(o, 'reason');
      List sums = oxList(o, 'summary');
      List names = oxList(o, 'model_name');
      List mtypes = oxList(o, 'model_type');
      String summary = oxSummary(doc, m.get(3));
      int n = ids.size();
      Map extras = m.get(7);
      for (def k : P.xk) {
        boolean has = extras != null && extras.containsKey(k);
        if (!has && !o.containsKey(k)) { continue; }
        List xl = oxList(o, k);
        while (xl.size() < n) { xl.add(''); }
        xl.add(has ? extras.get(k) : '');
      }
      List mt = m.get(1);
      types.addAll(mt);
      List tcn = added.containsKey('type_counts') ? added.get('type_counts') : new ArrayList();
      while (tcn.size() < n) { tcn.add(0); }
      tcn.add(mt.size());
      added.put('type_counts', tcn);
      reasons.add(m.get(2));
      sums.add(summary);
      names.add(m.get(4));
      mtypes.add(m.get(5));
      ids.add(id);
      o.put('total_outliers', ids.size());
      List tags = oxList(doc, 'tags');
      if (tagsNew) { added.put('tags_created', true); }
      if (!tags.contains('outlier')) { tags.add('outlier'); added.put('outlier_tag', true); }
      if (!techs.isEmpty()) {
        List tc = added.containsKey('threat_created') ? added.get('threat_created') : new ArrayList();
        if (th == null) { th = new HashMap(); doc.put('threat', th); tc.add('threat'); }
        if (tt == null) { tt = new HashMap(); th.put('technique', tt); tc.add('threat.technique'); }
        if (!tc.isEmpty()) { added.put('threat_created', tc); }
        List tid = oxList(tt, 'id');
        def bt = added.get('techniques');
        List by = bt instanceof List ? (List) bt : new ArrayList();
        for (def t : techs) {
          List entry = null;
          for (def e : by) { if (e instanceof List && !e.isEmpty() && e.get(0) == t) { entry = e; break; } }
          if (entry != null) { if (!entry.contains(id)) { entry.add(id); } }
          else if (!tid.contains(t)) { tid.add(t); List ne = new ArrayList(); ne.add(t); ne.add(id); by.add(ne); }
        }
        if (!by.isEmpty()) { added.put('techniques', by); }
      }
      changed++;
    } catch (Exception e) {
      errs.add(id + ': tagging failed: ' + e.toString());
    }
  }
  if (!added.isEmpty()) { o.put('added', added); }
  if (!errs.isEmpty()) {
    List el = oxList(o, 'error');
    for (def e : errs) { if (!el.contains(e)) { el.add(e); changed++; } }
  }
  if (created && o.isEmpty()) { doc.remove('outliers'); }
  return changed;
}
`;

/**
 * The matcher. State S = [doc, P, raw[], txt[], low[], num[], memo, flat, empty]: per-field value
 * views, each computed at most once per event (the "lower-case each field once" cache), the memo
 * slots of shared subtrees (0 unknown, 1 true, 2 false), the document's leaves by dotted path
 * (oxFlat, built once per event), and an empty list for absent fields (read only).
 */
export const MATCHER_FUNCTIONS = `
/* Every leaf value of the document under its dotted path (objects and lists walked, keys that hold dots
   joined the same way), so that any field is one lookup: the same values oxWalk finds for a path. */
void oxFlat(def node, String path, Map out) {
  if (node instanceof Map) {
    for (def e : ((Map) node).entrySet()) {
      def v = e.getValue();
      if (v != null) { String k = e.getKey().toString(); oxFlat(v, path == null ? k : path + '.' + k, out); }
    }
  } else if (node instanceof List) {
    for (def e : node) { oxFlat(e, path, out); }
  } else if (node != null && path != null) {
    List l = out.get(path);
    if (l == null) { l = new ArrayList(); out.put(path, l); }
    l.add(node);
  }
}
List oxRaw(def[] S, int fi) {
  def[] c = S[2];
  List v = c[fi];
  if (v == null) { v = ((Map) S[7]).get(S[1].f.get(fi).get(0)); if (v == null) { v = S[8]; } c[fi] = v; }
  return v;
}
int oxOct(String s, int a, int b) {
  if (b <= a || b - a > 3) { return -1; }
  if (b - a > 1 && s.charAt(a) == (char)'0') { return -1; }
  int v = 0;
  for (int i = a; i < b; ++i) { char c = s.charAt(i); if (c < 48 || c > 57) { return -1; } v = v * 10 + (c - 48); }
  return v > 255 ? -1 : v;
}
boolean oxV4(String s, int from, int[] out, int off) {
  int a = from;
  for (int k = 0; k < 4; ++k) {
    int e = k < 3 ? s.indexOf('.', a) : s.length();
    if (e < 0) { return false; }
    int v = oxOct(s, a, e);
    if (v < 0) { return false; }
    out[off + k] = v;
    a = e + 1;
  }
  return true;
}
int oxHex(String s, int a, int b) {
  if (b <= a || b - a > 4) { return -1; }
  int v = 0;
  for (int i = a; i < b; ++i) {
    char c = s.charAt(i);
    int d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0) { return -1; }
    v = v * 16 + d;
  }
  return v;
}
/* IPv4 or IPv6 text into 16 bytes (IPv4 as ::ffff:a.b.c.d, as Elasticsearch's ip field stores it); null when invalid. */
int[] oxIp(String s) {
  int[] r = new int[16];
  if (s.indexOf(':') < 0) {
    if (!oxV4(s, 0, r, 12)) { return null; }
    r[10] = 255; r[11] = 255;
    return r;
  }
  String t = s;
  int[] tail = new int[4];
  int words = 8;
  int ld = t.lastIndexOf(':');
  if (t.indexOf('.', ld) >= 0) {
    if (!oxV4(t, ld + 1, tail, 0)) { return null; }
    t = t.substring(0, ld + 1) + '0:0';
  }
  int dc = t.indexOf('::');
  if (dc >= 0 && t.indexOf('::', dc + 1) >= 0) { return null; }
  List hs = new ArrayList();
  int gap = -1;
  int i = 0;
  int n = t.length();
  if (dc == 0) { gap = 0; i = 2; if (n == 2) { i = 2; } }
  while (i < n) {
    int e = t.indexOf(':', i);
    if (e < 0) { e = n; }
    int v = oxHex(t, i, e);
    if (v < 0) { return null; }
    hs.add(v);
    if (e == n) { i = n; break; }
    if (e + 1 < n && t.charAt(e + 1) == (char)':') { gap = hs.size(); i = e + 2; if (i == n) { break; } }
    else { i = e + 1; if (i == n) { return null; } }
  }
  int have = hs.size();
  if (gap < 0 && have != 8) { return null; }
  if (gap >= 0 && have > 7) { return null; }
  int[] w = new int[8];
  if (gap < 0) { for (int k = 0; k < 8; ++k) { w[k] = hs.get(k); } }
  else {
    for (int k = 0; k < gap; ++k) { w[k] = hs.get(k); }
    int rest = have - gap;
    for (int k = 0; k < rest; ++k) { w[8 - rest + k] = hs.get(gap + k); }
  }
  for (int k = 0; k < 8; ++k) { r[2 * k] = w[k] >> 8; r[2 * k + 1] = w[k] & 255; }
  if (ld >= 0 && s.indexOf('.', ld) >= 0) { r[12] = tail[0]; r[13] = tail[1]; r[14] = tail[2]; r[15] = tail[3]; }
  return r;
}
/* The canonical text of an address, as ip doc values print it (dotted IPv4 for IPv4-mapped, else RFC 5952). */
String oxIpText(int[] r) {
  boolean mapped = r[10] == 255 && r[11] == 255;
  for (int k = 0; k < 10 && mapped; ++k) { if (r[k] != 0) { mapped = false; } }
  if (mapped) { return r[12] + '.' + r[13] + '.' + r[14] + '.' + r[15]; }
  int[] w = new int[8];
  for (int k = 0; k < 8; ++k) { w[k] = r[2 * k] * 256 + r[2 * k + 1]; }
  int bs = -1; int bl = 0; int cs = -1; int cl = 0;
  for (int k = 0; k < 8; ++k) {
    if (w[k] == 0) { if (cs < 0) { cs = k; cl = 0; } cl++; if (cl > bl) { bl = cl; bs = cs; } }
    else { cs = -1; }
  }
  if (bl < 2) { bs = -1; }
  StringBuilder b = new StringBuilder();
  for (int k = 0; k < 8; ++k) {
    if (k == bs) { b.append('::'); k += bl - 1; continue; }
    if (b.length() > 0 && !(bs >= 0 && k == bs + bl)) { b.append(':'); }
    b.append(Integer.toHexString(w[k]));
  }
  return b.toString();
}
/* Double.parseDouble after trim; NaN when the text is no number (or empty). */
double oxParse(String s) {
  String t = s.trim();
  if (t.isEmpty()) { return Double.NaN; }
  try { return Double.parseDouble(t); } catch (NumberFormatException e) { return Double.NaN; }
}
/* Numeric values of a long/double field as Elasticsearch indexes them ("" and null: no value; long truncates). */
List oxNum(def[] S, int fi) {
  def[] c = S[5];
  List v = c[fi];
  if (v != null) { return v; }
  v = new ArrayList();
  int t = S[1].f.get(fi).get(1);
  for (def x : oxRaw(S, fi)) {
    double d = x instanceof Number ? ((Number) x).doubleValue() : x instanceof String ? oxParse(x) : Double.NaN;
    if (Double.isNaN(d)) { continue; }
    if (t == 1) { d = (double) (long) d; }
    v.add(d);
  }
  c[fi] = v;
  return v;
}
/* The text a field's values are compared as: keyword source text (JSON numbers/booleans as their text,
   longer than ignore_above: no value), or the canonical doc-value text of ip/long/double/boolean fields. */
List oxTxt(def[] S, int fi) {
  def[] c = S[3];
  List v = c[fi];
  if (v != null) { return v; }
  v = new ArrayList();
  List fd = S[1].f.get(fi);
  int t = fd.get(1);
  if (t == 0 || t == 5) {
    int ia = fd.get(2);
    for (def x : oxRaw(S, fi)) {
      String s = x instanceof String ? (String) x : (x instanceof Number || x instanceof Boolean ? x.toString() : null);
      if (s != null && (ia < 0 || s.length() <= ia)) { v.add(s); }
    }
  } else if (t == 1) {
    for (def d : oxNum(S, fi)) { v.add(Long.toString((long) d)); }
  } else if (t == 2) {
    for (def d : oxNum(S, fi)) { v.add(Double.toString(d)); }
  } else if (t == 3) {
    for (def x : oxRaw(S, fi)) {
      if (x instanceof Boolean) { v.add(x.toString()); }
      else if (x == 'true' || x == 'false') { v.add(x); }
    }
  } else if (t == 4) {
    for (def x : oxRaw(S, fi)) {
      if (!(x instanceof String)) { continue; }
      int[] r = oxIp(x);
      if (r != null) { v.add(oxIpText(r)); }
    }
  }
  c[fi] = v;
  return v;
}
/* ASCII-only case folding, exactly as Elasticsearch's case_insensitive. */
String oxFold(String s) {
  StringBuilder b = null;
  int n = s.length();
  for (int i = 0; i < n; ++i) {
    char c = s.charAt(i);
    if (c >= 65 && c <= 90) { if (b == null) { b = new StringBuilder(s); } b.setCharAt(i, (char) (c + 32)); }
  }
  return b == null ? s : b.toString();
}
List oxLow(def[] S, int fi) {
  def[] c = S[4];
  List v = c[fi];
  if (v != null) { return v; }
  v = new ArrayList();
  for (def s : oxTxt(S, fi)) { v.add(oxFold(s)); }
  c[fi] = v;
  return v;
}
/* Whole-value wildcard match: mask per pattern char '0' literal, '1' any run, '2' one code point. */
boolean oxGlob(String s, String p, String m) {
  int n = s.length(); int pn = p.length();
  int si = 0; int pi = 0; int star = -1; int mark = 0;
  while (si < n) {
    if (pi < pn) {
      char k = m.charAt(pi);
      if (k == (char)'2') {
        char hc = s.charAt(si);
        if (hc >= 55296 && hc <= 56319 && si + 1 < n && s.charAt(si + 1) >= 56320 && s.charAt(si + 1) <= 57343) { si += 2; } else { si++; }
        pi++; continue;
      }
      if (k == (char)'1') { star = pi; mark = si; pi++; continue; }
      if (p.charAt(pi) == s.charAt(si)) { si++; pi++; continue; }
    }
    if (star < 0) { return false; }
    pi = star + 1; mark++; si = mark;
  }
  while (pi < pn && m.charAt(pi) == (char)'1') { pi++; }
  return pi == pn;
}
/* A pattern with only * wildcards, as its literal segments [S0, S1, …, Sk]: S0 prefix, Sk suffix, the
   others found left to right (leftmost is always the best choice). */
boolean oxSegs(String s, List segs) {
  int k = segs.size() - 1;
  String first = segs.get(0);
  String last = segs.get(k);
  int end = s.length() - last.length();
  if (end < first.length() || !s.startsWith(first) || !s.endsWith(last)) { return false; }
  int pos = first.length();
  for (int i = 1; i < k; ++i) {
    String g = segs.get(i);
    int j = s.indexOf(g, pos);
    if (j < 0 || j + g.length() > end) { return false; }
    pos = j + g.length();
  }
  return true;
}
boolean oxCidr(int[] r, List net, int bits) {
  int k = 0;
  while (bits >= 8) { if (r[k] != net.get(k)) { return false; } k++; bits -= 8; }
  if (bits == 0) { return true; }
  int mask = (255 << (8 - bits)) & 255;
  return (r[k] & mask) == (((int) net.get(k)) & mask);
}
boolean oxEv(def[] S, List n) {
  int op = n.get(0);
  if (op == 0) { for (int i = 1; i < n.size(); ++i) { if (!oxEv(S, n.get(i))) { return false; } } return true; }
  if (op == 1) { for (int i = 1; i < n.size(); ++i) { if (oxEv(S, n.get(i))) { return true; } } return false; }
  if (op == 2) { return !oxEv(S, n.get(1)); }
  if (op == 5) {
    byte[] mc = S[6];
    int mi = n.get(1);
    if (mc[mi] != 0) { return mc[mi] == 1; }
    boolean v = oxEv(S, n.get(2));
    mc[mi] = v ? (byte) 1 : (byte) 2;
    return v;
  }
  if (op == 3) { return true; }
  if (op == 4) { return false; }
  if (op == 22) {
    int sop = n.get(1);
    List vals = n.get(3) == 1 ? oxTxt(S, n.get(2)) : oxLow(S, n.get(2));
    if (vals.isEmpty()) { return false; }
    List qs = n.get(4);
    for (def sv : vals) {
      String s = (String) sv;
      for (def qv : qs) {
        String q = (String) qv;
        if (sop == 10 ? s.equals(q) : sop == 11 ? s.indexOf(q) >= 0 : sop == 12 ? s.startsWith(q) : s.endsWith(q)) { return true; }
      }
    }
    return false;
  }
  if (op == 23) {
    Map byPath = n.get(1);
    for (def path : ((Map) S[7]).keySet()) { def c = byPath.get(path); if (c != null && oxEv(S, c)) { return true; } }
    return false;
  }
  int fi = n.get(1);
  if (op <= 14) {
    List vals = n.get(2) == 1 ? oxTxt(S, fi) : oxLow(S, fi);
    String q = n.get(3);
    for (def s : vals) {
      if (op == 10 ? s.equals(q) : op == 11 ? s.indexOf(q) >= 0 : op == 12 ? s.startsWith(q) : op == 13 ? s.endsWith(q) : n.size() > 5 ? oxSegs(s, n.get(5)) : oxGlob(s, q, n.get(4))) { return true; }
    }
    return false;
  }
  if (op == 15) {
    def prog = S[1].x.get(n.get(2));
    List vals = n.get(3) == 1 ? oxLow(S, fi) : oxTxt(S, fi);
    for (def s : vals) { if (oxRegex(prog, s)) { return true; } }
    return false;
  }
  if (op == 16) {
    List net = n.get(2);
    int bits = n.get(3);
    for (def x : oxRaw(S, fi)) {
      if (!(x instanceof String)) { continue; }
      int[] r = oxIp(x);
      if (r != null && oxCidr(r, net, bits)) { return true; }
    }
    return false;
  }
  if (op == 17) { return !oxTxt(S, fi).isEmpty(); }
  if (op == 18) {
    boolean cased = n.get(3) == 1;
    List a = cased ? oxTxt(S, fi) : oxLow(S, fi);
    if (a.isEmpty()) { return false; }
    List b = cased ? oxTxt(S, n.get(2)) : oxLow(S, n.get(2));
    for (def x : a) { if (b.contains(x)) { return true; } }
    return false;
  }
  if (op == 19 || op == 20) {
    int cmp = n.get(2);
    double q = n.get(3);
    List vals;
    if (op == 19) { vals = oxNum(S, fi); }
    else {
      vals = new ArrayList();
      for (def s : oxTxt(S, fi)) { double d = oxParse(s); if (!Double.isNaN(d)) { vals.add(d); } }
    }
    for (def d : vals) {
      if (cmp == 0 ? d == q : cmp == 1 ? d > q : cmp == 2 ? d >= q : cmp == 3 ? d < q : d <= q) { return true; }
    }
    return false;
  }
  if (op == 21) {
    String want = n.get(2) == 1 ? 'true' : 'false';
    return oxTxt(S, fi).contains(want);
  }
  throw new IllegalArgumentException('unknown predicate op ' + op);
}
def[] oxState(Map doc, Map P) {
  int nf = P.f.size();
  def[] S = new def[9];
  S[0] = doc; S[1] = P; S[2] = new def[nf]; S[3] = new def[nf]; S[4] = new def[nf]; S[5] = new def[nf];
  S[6] = new byte[P.containsKey('mc') ? (int) P.mc : 0];
  Map flat = new HashMap();
  oxFlat(doc, null, flat);
  S[7] = flat; S[8] = new ArrayList();
  return S;
}
boolean oxRule(def[] S, int ri) {
  List r = S[1].r.get(ri);
  if (!oxEv(S, r.get(0))) { return false; }
  def wl = r.get(1);
  return wl == null || !oxEv(S, wl);
}
/* The candidates one index dimension adds for the event's values of its field. */
void oxDim(def[] S, List out, int d) {
  def P = S[1];
  List dim = P.dk.get(d);
  int fi = dim.get(0);
  int mode = dim.get(1);
  Map mp = P.dm.get(d);
  if (mode == 2) {
    for (def x : oxNum(S, fi)) { def hit = mp.get(Long.toString((long) x)); if (hit != null) { out.addAll(hit); } }
    return;
  }
  if (mode == 3) {
    int gl = P.gl;
    int gn = dim.get(2);
    boolean nonAscii = dim.size() > 3;
    String gf = P.gf;
    for (def sv : oxLow(S, fi)) {
      String s = (String) sv;
      int n = s.length();
      if (n > gl) { out.addAll(P.dg.get(d)); continue; }
      if (nonAscii) {
        boolean any = false;
        for (int i = 0; i < n && !any; ++i) { any = s.charAt(i) >= 128; }
        if (!any) { continue; }
      }
      for (int i = 0; i + gn <= n; ++i) {
        // gramHash of encode.ts, then the bit filter: most positions end here, without a substring.
        int h = gn == 4 ? ((s.charAt(i) * 31 + s.charAt(i + 1)) * 31 + s.charAt(i + 2)) * 31 + s.charAt(i + 3) : gn == 2 ? s.charAt(i) * 31 + s.charAt(i + 1) : s.charAt(i);
        h = h & 65535;
        if (((gf.charAt(h >> 3) >> (h & 7)) & 1) == 0) { continue; }
        def hit = mp.get(s.substring(i, i + gn));
        if (hit != null) { out.addAll(hit); }
      }
    }
    return;
  }
  for (def sv : oxLow(S, fi)) {
    String key = (String) sv;
    if (mode == 1) { int p = key.lastIndexOf('\\\\'); if (p < 0) { continue; } key = key.substring(p + 1); }
    def hit = mp.get(key);
    if (hit != null) { out.addAll(hit); }
  }
}
/* Candidate rules: those with no index key, plus those an indexed value of the event selects; sorted (the
   caller skips repeats). Only the fields the event holds are looked at (P.dp: path → dimensions). */
List oxCands(def[] S) {
  def P = S[1];
  List out = new ArrayList(P.a);
  Map dp = P.dp;
  for (def path : ((Map) S[7]).keySet()) {
    List ds = dp.get(path);
    if (ds == null) { continue; }
    for (def d : ds) { oxDim(S, out, d); }
  }
  Collections.sort(out);
  return out;
}
boolean outliersMatchRule(Map doc, Map P, int ri) {
  return oxRule(oxState(doc, P), ri);
}
int outliersRun(Map doc, Map P) {
  def[] S = oxState(doc, P);
  List hits = new ArrayList();
  List errs = new ArrayList();
  int prev = -1;
  for (def ri : oxCands(S)) {
    if (ri == prev) { continue; }
    prev = ri;
    try {
      if (oxRule(S, ri)) { hits.add(ri); }
    } catch (Exception e) {
      errs.add(P.m.get(ri).get(0) + ': ' + e.toString());
    }
  }
  return outliersTag(doc, P, hits, errs);
}
`;
