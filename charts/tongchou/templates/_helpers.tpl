{{/* The chart's name. */}}
{{- define "tongchou.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name, the prefix of every object's name. */}}
{{- define "tongchou.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "tongchou.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "tongchou.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tongchou
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels; call with (dict "root" $ "component" "hub"). */}}
{{- define "tongchou.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tongchou.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The image reference. */}}
{{- define "tongchou.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The hub's gRPC address as agents use it. */}}
{{- define "tongchou.hubAddress" -}}
{{- if .Values.agent.hub }}
{{- .Values.agent.hub }}
{{- else if .Values.relay.enabled }}
{{- printf "%s-relay.%s.svc:%d" (include "tongchou.fullname" .) .Release.Namespace (int .Values.relay.grpcPort) }}
{{- else }}
{{- printf "%s-hub.%s.svc:%d" (include "tongchou.fullname" .) .Release.Namespace (int .Values.hub.grpcPort) }}
{{- end }}
{{- end }}

{{/* A ServiceAccount's name; call with (dict "root" $ "component" "hub"). */}}
{{- define "tongchou.serviceAccountName" -}}
{{- if .root.Values.serviceAccount.create }}
{{- printf "%s-%s" (include "tongchou.fullname" .root) .component }}
{{- else }}
{{- "default" }}
{{- end }}
{{- end }}

{{/* Agent labels as TONGCHOU_LABELS text: k=v,k2=v2, sorted by key. */}}
{{- define "tongchou.agentLabels" -}}
{{- $pairs := list }}
{{- range $key := keys . | sortAlpha }}
{{- $pairs = append $pairs (printf "%s=%v" $key (get $ $key)) }}
{{- end }}
{{- join "," $pairs }}
{{- end }}
