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
// List.remove is called by position: on a `def` receiver Painless picks the overload by arity,
// so remove(Object) would be taken for remove(int).
export const UNTAG_SOURCE = `
Map src = ctx._source;
def o = src.get('outliers');
if (!(o instanceof Map)) { ctx.op = 'noop'; return; }
def ids = o.get('rule_id');
if (!(ids instanceof List)) { ctx.op = 'noop'; return; }
List keep = new ArrayList();
List gone = new ArrayList();
for (int i = 0; i < ids.size(); i++) {
  if (params.ids == null || params.ids.contains(ids.get(i))) { gone.add(ids.get(i)); } else { keep.add(i); }
}
if (gone.isEmpty()) { ctx.op = 'noop'; return; }
int n = ids.size();
def added0 = o.get('added');
def tcounts = added0 instanceof Map ? added0.get('type_counts') : null;
boolean typeDone = false;
if (tcounts instanceof List && tcounts.size() == n && o.get('type') instanceof List) {
  List tv = o.get('type');
  int ours = 0;
  for (def c : tcounts) { ours += c; }
  int off = tv.size() - ours;
  List nt = new ArrayList();
  for (int i = 0; i < off; i++) { nt.add(tv.get(i)); }
  List ntc = new ArrayList();
  int k0 = 0;
  for (int i = 0; i < n; i++) {
    int c = tcounts.get(i);
    if (k0 < keep.size() && keep.get(k0) == i) {
      for (int j = 0; j < c; j++) { nt.add(tv.get(off + j)); }
      ntc.add(c);
      k0++;
    }
    off += c;
  }
  o.put('type', nt);
  added0.put('type_counts', ntc);
  typeDone = true;
}
for (def k : new ArrayList(o.keySet())) {
  def v = o.get(k);
  if (typeDone && k == 'type') { continue; }
  if (v instanceof List && v.size() == n) {
    List nv = new ArrayList();
    for (int i : keep) { nv.add(v.get(i)); }
    o.put(k, nv);
  }
}
def added = o.get('added');
if (!(added instanceof Map)) { added = new HashMap(); }
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
if (keep.isEmpty()) {
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
  if (added.get('outliers_created') == true) { src.remove('outliers'); }
  else {
    o.remove('added');
    o.put('total_outliers', 0);
  }
} else {
  o.put('total_outliers', keep.size());
}
`;

/** The `_update_by_query` script that removes tags for `ids` (null: every rule this tool tagged). */
export function untagScript(ids: string[] | null): { source: string; params: { ids: string[] | null }; lang: "painless" } {
  return { source: UNTAG_SOURCE, params: { ids }, lang: "painless" };
}
