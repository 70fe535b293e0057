/**
 * The fixed Painless script `outliers untag` runs with `_update_by_query`: removes the entries this
 * tool wrote for some rules (params.ids) or all of them (params.ids = null), and nothing else.
 *
 * What the tagger wrote is known exactly from the event itself:
 * - one entry per rule in every `outliers.*` list, at the index of the rule in `outliers.rule_id`,
 *   except `outliers.type`, where rule i added `outliers.added.type_counts[i]` entries;
 * - `outliers.added`, the provenance record the tagger keeps (see tagger.ts):
 *     outlier_tag      true when the tagger appended "outlier" to `tags`
 *     tags_created     true when `tags` did not exist before
 *     techniques       [[technique id, rule ids that brought it…], …] for ids the tagger appended
 *     threat_created   which of "threat", "threat.technique" the tagger created
 * When the last rule goes, everything the tagger created goes with it, so the event's `_source` is
 * what it was before tagging (apart from key order).
 */
// Which entries are ours: `outliers.added.type_counts[i]` is set by the tagger for the rule it wrote
// at `rule_id[i]` (the number of `outliers.type` entries it added, at least one) and padded with 0
// for entries that were there before; entries past its end came after. An event without our
// provenance (ee-outliers' own tags) has no entry of ours at all.
export const UNTAG_FUNCTIONS = `
List utOurs(def o) {
  List out = new ArrayList();
  if (!(o instanceof Map)) { return out; }
  def ids = o.get('rule_id');
  def ad = o.get('added');
  if (!(ids instanceof List) || !(ad instanceof Map)) { return out; }
  def tc = ad.get('type_counts');
  if (!(tc instanceof List)) { return out; }
  for (int i = 0; i < ids.size() && i < tc.size(); i++) {
    def c = tc.get(i);
    if (c instanceof Number && ((Number) c).intValue() > 0) { out.add(i); }
  }
  return out;
}
List utGone(def o, List ours, def wanted) {
  List out = new ArrayList();
  if (ours.isEmpty()) { return out; }
  List ids = o.get('rule_id');
  for (def i : ours) { if (wanted == null || wanted.contains(ids.get(i))) { out.add(i); } }
  return out;
}
`;

// The lists one entry per rule: rule i's entry is at (size - n) + i, entries of ee-outliers'
// own layout (without rule_id) preceding ours. Other list keys (a use case's extras) are ours only
// when they line up with rule_id exactly. List.remove is called by position: on a `def` receiver
// Painless picks the overload by arity, so remove(Object) would be taken for remove(int).
export const UNTAG_SOURCE = `${UNTAG_FUNCTIONS}
Map src = ctx._source;
def o = src.get('outliers');
List ours = utOurs(o);
List goneAt = utGone(o, ours, params.ids);
if (goneAt.isEmpty()) { ctx.op = 'noop'; return; }
List ids = o.get('rule_id');
int n = ids.size();
List gone = new ArrayList();
for (def i : goneAt) { gone.add(ids.get(i)); }
Map added = o.get('added');
List tcounts = added.get('type_counts');
def tv = o.get('type');
if (tv instanceof List) {
  int oursTypes = 0;
  for (def c : tcounts) { oursTypes += ((Number) c).intValue(); }
  int off = tv.size() - oursTypes;
  if (off >= 0) {
    List nt = new ArrayList();
    for (int i = 0; i < off; i++) { nt.add(tv.get(i)); }
    for (int i = 0; i < tcounts.size(); i++) {
      int c = ((Number) tcounts.get(i)).intValue();
      if (!goneAt.contains(i)) { for (int j = 0; j < c; j++) { nt.add(tv.get(off + j)); } }
      off += c;
    }
    for (int i = off; i < tv.size(); i++) { nt.add(tv.get(i)); }
    o.put('type', nt);
  }
}
List ntc = new ArrayList();
for (int i = 0; i < tcounts.size(); i++) { if (!goneAt.contains(i)) { ntc.add(tcounts.get(i)); } }
added.put('type_counts', ntc);
List perRule = ['rule_id', 'reason', 'summary', 'model_name', 'model_type'];
for (def k : new ArrayList(o.keySet())) {
  if (k == 'type' || k == 'added' || k == 'error' || k == 'total_outliers') { continue; }
  def v = o.get(k);
  if (!(v instanceof List)) { continue; }
  int off = v.size() - n;
  if (off < 0 || (off > 0 && !perRule.contains(k))) { continue; }
  List nv = new ArrayList();
  for (int i = 0; i < v.size(); i++) { if (i < off || !goneAt.contains(i - off)) { nv.add(v.get(i)); } }
  if (nv.isEmpty() && k != 'rule_id' && !perRule.contains(k)) { o.remove(k); } else { o.put(k, nv); }
}
def techs = added.get('techniques');
if (techs instanceof List) {
  def threat = src.get('threat');
  def tech = threat instanceof Map ? threat.get('technique') : null;
  def tid = tech instanceof Map ? tech.get('id') : null;
  List left = new ArrayList();
  for (def e : techs) {
    if (!(e instanceof List) || e.isEmpty()) { continue; }
    List by = new ArrayList();
    by.add(e.get(0));
    for (int i = 1; i < e.size(); i++) { if (!gone.contains(e.get(i))) { by.add(e.get(i)); } }
    if (by.size() == 1) {
      if (tid instanceof List) { int at = tid.indexOf(e.get(0)); if (at >= 0) { tid.remove(at); } }
    } else { left.add(by); }
  }
  added.put('techniques', left);
  if (tid instanceof List && tid.isEmpty() && tech instanceof Map) { tech.remove('id'); }
}
int oursLeft = ours.size() - goneAt.size();
List idsNow = o.get('rule_id');
if (oursLeft == 0) {
  if (added.get('outlier_tag') == true) {
    def tags = src.get('tags');
    if (tags instanceof List) { int at = tags.indexOf('outlier'); if (at >= 0) { tags.remove(at); } }
    if (added.get('tags_created') == true && tags instanceof List && tags.isEmpty()) { src.remove('tags'); }
  }
  def created = added.get('threat_created');
  if (created instanceof List) {
    def threat = src.get('threat');
    if (created.contains('threat.technique') && threat instanceof Map) {
      def tech = threat.get('technique');
      if (tech instanceof Map && tech.isEmpty()) { threat.remove('technique'); }
    }
    if (created.contains('threat') && threat instanceof Map && threat.isEmpty()) { src.remove('threat'); }
  }
  if (added.get('outliers_created') == true) { src.remove('outliers'); return; }
  o.remove('added');
  // Outliers that were there before us (ee-outliers' own): the rule_id list was ours when now empty,
  // and total_outliers counts their entries again, as ee-outliers keeps it.
  if (idsNow.isEmpty()) { o.remove('rule_id'); }
  for (def k : ['reason', 'summary', 'model_name', 'model_type', 'type']) { def v = o.get(k); if (v instanceof List && v.isEmpty()) { o.remove(k); } }
  def sums = o.get('summary');
  int left = sums instanceof List && sums.size() > idsNow.size() ? sums.size() : idsNow.size();
  if (left == 0) { o.remove('total_outliers'); } else { o.put('total_outliers', left); }
} else {
  def sums = o.get('summary');
  o.put('total_outliers', sums instanceof List && sums.size() > idsNow.size() ? sums.size() : idsNow.size());
}
`;

/**
 * A `scripted_metric` aggregation counting what untag would remove (`untag --dry-run`): events it
 * would change and rule entries it would take off them, by the same reading of `outliers.added`.
 */
export function untagCountAggregation(ids: string[] | null): object {
  return {
    scripted_metric: {
      // Its params are deep-copied, which fails on a null value (7.10): "all" stands for ids = null.
      params: { ids: ids ?? [], all: ids === null },
      init_script: "state.events = 0L; state.entries = 0L;",
      map_script: `${UNTAG_FUNCTIONS}
def o = params['_source'].get('outliers');
List g = utGone(o, utOurs(o), params.all ? null : params.ids);
if (!g.isEmpty()) { state.events += 1; state.entries += g.size(); }`,
      combine_script: "return [state.events, state.entries];",
      reduce_script: "long e = 0; long n = 0; for (def s : states) { if (s != null) { e += s[0]; n += s[1]; } } return [e, n];",
    },
  };
}

/** The `_update_by_query` script that removes tags for `ids` (null: every rule this tool tagged). */
export function untagScript(ids: string[] | null): { source: string; params: { ids: string[] | null }; lang: "painless" } {
  return { source: UNTAG_SOURCE, params: { ids }, lang: "painless" };
}
