import {
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  isObjectType,
  Kind,
  type FieldNode,
  type GraphQLResolveInfo,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';

/** One field asked of the object a resolver returns, with its arguments as coerced. */
export interface SelectedField {
  name: string;
  args: Record<string, unknown>;
}

/**
 * The fields the operation asks of the object the current field returns (through fragments and
 * inline fragments, aliases each counted), with their arguments. Lets a root resolver check its
 * children's arguments, and learn what they need, before it asks any upstream.
 */
export function selectedFields(info: GraphQLResolveInfo): SelectedField[] {
  const type = getNamedType(info.returnType);
  if (!isObjectType(type)) return [];
  const fields = type.getFields();
  const selected: SelectedField[] = [];
  const visit = (selectionSet: SelectionSetNode | undefined, visiting: Set<string>): void => {
    for (const selection of selectionSet?.selections ?? []) {
      if (!included(selection, info.variableValues)) continue;
      if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet, visiting);
      else if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = info.fragments[selection.name.value];
        if (!fragment || visiting.has(fragment.name.value)) continue;
        visit(fragment.selectionSet, new Set([...visiting, fragment.name.value]));
      } else {
        const definition = fields[selection.name.value];
        if (definition) selected.push({ name: selection.name.value, args: getArgumentValues(definition, selection as FieldNode, info.variableValues) });
      }
    }
  };
  for (const node of info.fieldNodes) visit(node.selectionSet, new Set());
  return selected;
}

/** False for a selection `@skip(if: true)` or `@include(if: false)` leaves out. */
function included(selection: SelectionNode, variables: GraphQLResolveInfo['variableValues']): boolean {
  if (getDirectiveValues(GraphQLSkipDirective, selection, variables)?.['if'] === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, selection, variables)?.['if'] !== false;
}
