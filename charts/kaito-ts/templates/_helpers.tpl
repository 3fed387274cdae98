{{/*
Labels of every object: deploy/'s app.kubernetes.io/name, plus Helm's own. Selectors use only
kaito-ts.selector, so they match deploy/'s and never change on upgrade.
*/}}
{{- define "kaito-ts.labels" -}}
app.kubernetes.io/name: kaito-ts
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}

{{- define "kaito-ts.managerSelector" -}}
app.kubernetes.io/name: kaito-ts
app.kubernetes.io/component: manager
{{- end }}

{{- define "kaito-ts.schedulerSelector" -}}
app.kubernetes.io/name: kaito-ts
app.kubernetes.io/component: scheduler
{{- end }}

{{/* The manager's mode, checked: a misspelt one fails the render with what to write instead. */}}
{{- define "kaito-ts.nodeProvisioner" -}}
{{- $modes := list "karpenter" "azure-gpu-provisioner" "builtin" "byo" -}}
{{- if not (has .Values.nodeProvisioner $modes) -}}
{{- fail (printf "nodeProvisioner must be one of %s, got %q" (join ", " $modes) .Values.nodeProvisioner) -}}
{{- end -}}
{{- .Values.nodeProvisioner -}}
{{- end }}

{{/*
kube-scheduler's image tag: scheduler.image.tag, else the cluster's version without a vendor
suffix (v1.33.5-eks-3025e55 is v1.33.5), so the kaito-scheduler is never newer than the API
server (Kubernetes' version skew policy).
*/}}
{{- define "kaito-ts.schedulerTag" -}}
{{- .Values.scheduler.image.tag | default (regexFind "^v[0-9]+\\.[0-9]+\\.[0-9]+" .Capabilities.KubeVersion.Version) -}}
{{- end }}
