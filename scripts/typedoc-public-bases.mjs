// A TypeDoc plugin (typedoc.json loads it) that keeps the API reference to public names:
// the nn layers extend a base class the package does not export (LayerBase, and
// Elementwise for the activations), and TypeDoc would otherwise write "Extends LayerBase"
// and "Inherited from LayerBase.forward" under every layer, naming a class no reader can
// find or import. A class's public contract is what it implements (nn.Layer), which its
// own declaration states.
import { Converter, ReferenceType } from 'typedoc';

// After TypeDoc's own resolve step has filled in the inheritance links.
const AFTER_TYPEDOC = -100;

/**
 * A reference into this package that leads to no page of the reference. TypeDoc leaves
 * `package` unset on the member links it makes itself (Inherited from, Overrides).
 */
function unexported(type, packageName) {
  return type instanceof ReferenceType && type.reflection === undefined && (type.package ?? packageName) === packageName;
}

/**
 * The levels of an "Extends" chain (TypeDoc builds it from extendedTypes before this
 * plugin runs) without their unexported types, and without the levels left empty.
 */
function publicLevels(level, packageName) {
  if (level === undefined) return undefined;
  const next = publicLevels(level.next, packageName);
  const types = level.types.filter((type) => !unexported(type, packageName));
  return types.length === 0 ? next : { ...level, types, next };
}

export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_END, (context) => {
    const { packageName } = context.project;
    for (const reflection of Object.values(context.project.reflections)) {
      for (const link of ['inheritedFrom', 'overwrites', 'implementationOf']) {
        if (unexported(reflection[link], packageName)) delete reflection[link];
      }
      for (const list of ['extendedTypes', 'implementedTypes']) {
        const kept = reflection[list]?.filter((type) => !unexported(type, packageName));
        if (kept !== undefined) reflection[list] = kept.length > 0 ? kept : undefined;
      }
      if (reflection.typeHierarchy !== undefined) {
        const chain = publicLevels(reflection.typeHierarchy, packageName);
        // The class alone is no hierarchy, as TypeDoc has it.
        reflection.typeHierarchy = chain?.next === undefined ? undefined : chain;
      }
    }
  }, AFTER_TYPEDOC);
}
